"""``loopml ci report|gate|promote`` against a real store: files written, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import loopml as lm
from churn_models import churn, classifier
from loopml.cli import app
from loopml.registry import Registry


def _train(path: Path, frame: pd.DataFrame, *, weak: bool = False) -> str:
    """Log a model with its training data recorded, as the example's train.py does."""
    frame.to_csv(path, index=False)
    with lm.start_run():
        lm.log_input(lm.register_dataset("churn-train", path), context="training")
        info = lm.log_model(classifier(frame, weak=weak), "model", input_example=frame.head(5))
    return info.model_uri


@pytest.fixture
def project(sdk: str, tmp_path: Path) -> dict[str, object]:
    churn(300, seed=1).to_csv(tmp_path / "holdout.csv", index=False)
    champion = _train(tmp_path / "train_v1.csv", churn(500, seed=0))
    registry = Registry()
    version = registry.create_model_version("churn", champion)
    registry.set_alias("churn", "champion", version.version)
    # The new training data is larger and older customers joined: tenure drifts.
    shifted = churn(700, seed=3)
    shifted["tenure"] = shifted["tenure"] + 30
    candidate = _train(tmp_path / "train_v2.csv", shifted)
    (tmp_path / "loopml-ci.yaml").write_text(
        "data: holdout.csv\n"
        "target: churned\n"
        "baseline: models:/churn@champion\n"
        "slices: [plan, 'age >= 65']\n"
        "sensitive_features: [gender]\n"
        "gates:\n"
        "  - {type: min_metric, metric: roc_auc, threshold: 0.6}\n"
        "  - {type: max_regression, metric: roc_auc, max_drop: 0.2}\n"
        "  - {type: signature}\n"
        "register: {name: churn, alias: champion}\n"
    )
    return {"uri": sdk, "root": tmp_path, "candidate": candidate}


def _run(project: dict[str, object], *args: str) -> tuple[int, str, str]:
    command = ["--tracking-uri", str(project["uri"]), "ci", *args]
    result = CliRunner().invoke(app, command, env={"COLUMNS": "200"})
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_report_writes_markdown_evaluation_gates_and_plots(project) -> None:
    root = Path(project["root"])  # type: ignore[arg-type]
    out = root / "ci-report"
    code, stdout, stderr = _run(
        project,
        "report",
        "--config",
        str(root / "loopml-ci.yaml"),
        "--model",
        str(project["candidate"]),
        "--out",
        str(out),
    )
    assert code == 0, stdout + stderr
    assert "PASS min_metric:roc_auc" in stdout
    markdown = (out / "report.md").read_text()
    assert "## loopml model report" in markdown
    assert "all 3 gates passed" in markdown
    assert "| Metric | Candidate | Baseline | Δ |" in markdown
    assert "| roc_auc |" in markdown
    assert "plan=basic" in markdown and "age >= 65" in markdown
    assert "Demographic parity" in markdown
    assert "`churn-train@1` → `churn-train@2`" in markdown
    assert "rows: 500 → 700 (+40.0%)" in markdown
    assert "| tenure | ks |" in markdown  # the shifted column is tested and listed first
    for image in ("confusion_matrix.png", "roc.png"):
        assert f"](plots/{image})" in markdown
        assert (out / "plots" / image).read_bytes().startswith(b"\x89PNG")
    gates = json.loads((out / "gates.json").read_text())
    assert [g["passed"] for g in gates] == [True, True, True]
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["baseline"]["model"] == "models:/churn@champion"
    # The evaluation is also logged, as a child run of the candidate's run.
    run_id = str(project["candidate"]).split("/")[1]
    experiment = lm.get_run(run_id).info.experiment_id
    [child] = lm.search_runs(
        [experiment], filter_string=f"tags.mlflow.parentRunId = '{run_id}'", output_format="list"
    )
    assert child.info.run_name == "ci-evaluation"
    assert child.data.metrics["roc_auc"] == pytest.approx(evaluation["metrics"]["roc_auc"])


def test_gate_exit_codes_and_one_line_per_failure(project) -> None:
    root = Path(project["root"])  # type: ignore[arg-type]
    out = root / "ci-report"
    _run(
        project,
        "report",
        "--config",
        str(root / "loopml-ci.yaml"),
        "--model",
        str(project["candidate"]),
        "--out",
        str(out),
    )
    code, stdout, _ = _run(
        project, "gate", "--config", str(root / "loopml-ci.yaml"), "-e", str(out)
    )
    assert code == 0 and "All 3 gates passed" in stdout
    code, _, stderr = _run(
        project,
        "gate",
        "-e",
        str(out),
        "--gate",
        "min:roc_auc:0.99",
        "--gate",
        "fairness:0.0001",
        "--gate",
        "min:f1:0.0",
    )
    assert code == 1
    failed = [line for line in stderr.splitlines() if line.startswith("gate failed")]
    assert len(failed) == 2
    assert "roc_auc" in failed[0] and "below 0.99" in failed[0]


def test_promote_registers_and_moves_the_alias_only_through_the_gates(project) -> None:
    root = Path(project["root"])  # type: ignore[arg-type]
    config = str(root / "loopml-ci.yaml")
    code, stdout, _ = _run(
        project, "promote", "--config", config, "--model", str(project["candidate"])
    )
    assert code == 0, stdout
    registry = Registry()
    assert registry.get_registered_model("churn").aliases["champion"] == 2
    weak = _train(root / "train_v3.csv", churn(400, seed=4), weak=True)
    code, stdout, stderr = _run(project, "promote", "--config", config, "--model", weak)
    assert code == 1
    assert "FAIL min_metric:roc_auc" in stdout
    assert "registered but not promoted" in stderr
    assert registry.get_registered_model("churn").aliases["champion"] == 2
    assert len(registry.search_model_versions("name = 'churn'")) == 3


def test_bad_input_is_a_message_and_exit_code(project, tmp_path: Path) -> None:
    root = Path(project["root"])  # type: ignore[arg-type]
    code, _, stderr = _run(project, "report", "--model", str(project["candidate"]))
    assert code == 1 and "No data given" in stderr
    code, _, stderr = _run(
        project,
        "report",
        "--config",
        str(root / "loopml-ci.yaml"),
        "--model",
        str(project["candidate"]),
        "--target",
        "label",
        "--out",
        str(tmp_path / "x"),
    )
    assert code == 1 and "no target column 'label'" in stderr
    (tmp_path / "bad.yaml").write_text("targets: y\n")
    code, _, stderr = _run(project, "report", "--config", str(tmp_path / "bad.yaml"))
    assert code == 1 and "unknown setting 'targets'" in stderr
    (tmp_path / "bad-gate.yaml").write_text("gates: [{type: min_metric}]\n")
    code, _, stderr = _run(project, "gate", "--config", str(tmp_path / "bad-gate.yaml"))
    assert code == 1 and "Invalid min_metric gate" in stderr
    code, _, stderr = _run(project, "gate", "-e", str(tmp_path / "missing"), "--gate", "signature")
    assert code == 1 and "No evaluation" in stderr
    code, _, stderr = _run(project, "gate", "-e", str(tmp_path / "missing"))
    assert code == 1 and "No gates to check" in stderr
    code, _, stderr = _run(
        project,
        "promote",
        "--config",
        str(root / "loopml-ci.yaml"),
        "--model",
        str(root / "somewhere"),
    )
    assert code == 1 and "Only a run's model can be registered" in stderr


def test_first_report_without_a_champion(sdk: str, tmp_path: Path) -> None:
    frame = churn(400, seed=0)
    frame.to_csv(tmp_path / "holdout.csv", index=False)
    uri = _train(tmp_path / "train.csv", frame)
    result = CliRunner().invoke(
        app,
        [
            "--tracking-uri",
            sdk,
            "ci",
            "report",
            "--model",
            uri,
            "--data",
            str(tmp_path / "holdout.csv"),
            "--target",
            "churned",
            "--baseline",
            "models:/churn@champion",
            "--gate",
            "regression:f1:0.01",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.stdout
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "no baseline to compare with" in markdown
    assert "nothing to compare the training data with" in markdown
    assert not np.isnan(
        json.loads((tmp_path / "out" / "evaluation.json").read_text())["metrics"]["f1"]
    )
