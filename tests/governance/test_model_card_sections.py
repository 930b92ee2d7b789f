"""``model_card``: the facts of a version, as Markdown and HTML, embedded and through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from lineage_chain import XSS, Chain, build_chain
from typer.testing import CliRunner

from loopml.cli import app
from loopml.core.errors import InvalidArgument, NotFound
from loopml.evaluation import Evaluation
from loopml.governance._cards import ModelCard, model_card
from loopml.registry import Registry
from loopml.tracking import Client

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('cards') / 'loopml.db'}"


@pytest.fixture
def chain_client(store: str, tmp_path: Path) -> Client:
    return Client(store)


@pytest.fixture
def chain(chain_client: Client, tmp_path: Path) -> Chain:
    built = build_chain(chain_client, tmp_path / "chain")
    evaluation = Evaluation(
        model=f"models:/{built.model}/2",
        task="classification",
        target="y",
        rows=200,
        metrics={"roc_auc": 0.91, "f1": 0.8},
    )
    # what log_evaluation stores (the run is finished, so only its artifact is added)
    chain_client.log_dict(built.run_v2, evaluation.to_dict(), "evaluation/evaluation.json")
    return built


def test_card_facts(chain_client: Client, chain: Chain) -> None:
    card = model_card(chain.model, 2, chain_client)
    assert card.owner == "bob"  # the version's tag wins over the model's
    assert card.intended_use == "weekly churn scores"
    assert XSS in card.model_description
    assert card.run_id == chain.run_v2
    assert card.aliases == ["champion"]
    assert [d["uri"] for d in card.training_data] == [chain.dataset_uri]
    data = card.training_data[0]
    assert data["context"] == "training" and data["rows"] == 800
    assert {c["name"] for c in data["columns"]} == {"x", "city", "y"}
    assert card.metrics["auc"] == pytest.approx(0.9)
    assert card.evaluation is not None and card.evaluation["metrics"]["roc_auc"] == 0.91
    promoted = [p for p in card.promotions if p["action"] == "promote"]
    assert promoted and promoted[0]["user"] == "carol" and promoted[0]["reason"] == "better auc"
    assert card.gates and card.gates[0]["passed"] is True
    [promotion] = [g for g in card.gates if g["by"] == "promotion to champion"]
    assert promotion["user"] == "carol" and promotion["reason"] == "better auc"
    [verdict] = promotion["gates"]
    assert (verdict["gate"], verdict["passed"]) == ("metric:auc", True)
    assert "auc = 0.9" in verdict["message"]
    assert card.lineage is not None and card.lineage.root == f"models:/{chain.model}/2"
    assert ModelCard.from_dict(card.to_dict()) == card


def test_markdown_and_html_sections_are_escaped(chain_client: Client, chain: Chain) -> None:
    card = model_card(chain.model, 2, chain_client)
    text = card.markdown()
    for section in (
        "Overview",
        "Training data",
        "Evaluation",
        "Gates passed",
        "Promotions",
        "Lineage",
    ):
        assert f"## {section}" in text
    assert "**Owner**: bob" in text
    gates = text.split("## Gates passed")[1].split("## Promotions")[0]
    assert "promotion to champion" in gates and "by carol: passed" in gates
    assert "| gate | verdict | message |" in gates and "| metric:auc | pass | auc = 0.9" in gates
    assert "<img" not in text and "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    page = card.html()
    assert page.startswith("<!doctype html>")
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    for section in (
        "overview",
        "training-data",
        "evaluation",
        "gates-passed",
        "promotions",
        "lineage",
    ):
        assert f'<section id="{section}">' in page
    assert "<script" not in page


def test_version_one_card(chain_client: Client, chain: Chain) -> None:
    card = model_card(chain.model, "1", chain_client)
    assert card.owner == "retention-team"  # from the model's tags
    assert card.evaluation is None
    moves = [(p["action"], p["version"]) for p in card.promotions]
    assert moves == [("set", 1), ("promote", 2)]  # held, then replaced by v2
    assert card.gates == []  # v2's gates judged v2: they are not v1's
    assert "No gated promotion" in card.markdown()
    Registry(chain_client, user="dave").promote(chain.model, 1, "staging", reason="soak")
    ungated = model_card(chain.model, 1, chain_client)
    assert [(g["by"], g["user"], g["gates"]) for g in ungated.gates] == [
        ("promotion to staging", "dave", [])
    ]
    assert "No gate ran: the promotion named none." in ungated.markdown()


def test_bad_input(chain_client: Client, chain: Chain) -> None:
    with pytest.raises(NotFound):
        model_card(chain.model, 99, chain_client)
    with pytest.raises(NotFound):
        model_card("no-such-model", 1, chain_client)
    for version in (0, -1, "x", True):
        with pytest.raises(InvalidArgument, match="version"):
            model_card(chain.model, version, chain_client)  # type: ignore[arg-type]


def test_cli_card(store: str, chain: Chain, tmp_path: Path) -> None:
    printed = runner.invoke(app, ["--tracking-uri", store, "models", "card", chain.model, "2"])
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith(f"# Model card: {chain.model} version 2")
    out = tmp_path / "card.html"
    written = runner.invoke(
        app,
        [
            "--tracking-uri",
            store,
            "models",
            "card",
            chain.model,
            "2",
            "--format",
            "html",
            "--output",
            str(out),
        ],
    )
    assert written.exit_code == 0, written.output
    assert out.read_text().startswith("<!doctype html>")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".loopml-tmp-")]

    missing = runner.invoke(app, ["--tracking-uri", store, "models", "card", chain.model, "9"])
    assert (
        missing.exit_code == 1 and "Error:" in missing.output and "Traceback" not in missing.output
    )
    bad = runner.invoke(
        app, ["--tracking-uri", store, "models", "card", chain.model, "2", "--format", "pdf"]
    )
    assert bad.exit_code == 1 and "markdown or html" in bad.output
    nowhere = runner.invoke(
        app,
        [
            "--tracking-uri",
            store,
            "models",
            "card",
            chain.model,
            "2",
            "--output",
            str(tmp_path / "no" / "card.md"),
        ],
    )
    assert nowhere.exit_code == 1 and "could not write" in nowhere.output
