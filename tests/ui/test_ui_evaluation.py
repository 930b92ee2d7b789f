"""The Evaluation section of run and model version pages, from a logged evaluation's files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from runs_seed import XSS, tiny_png
from ui_seed import model_run, unique

from loopml.evaluation import Comparison, Evaluation, log_evaluation
from loopml.registry import Registry
from loopml.tracking import Client
from loopml.ui._evaluation_view import verdict


def evaluation() -> Evaluation:
    return Evaluation(
        model="runs:/abc/model",
        task="classification",
        target="churned",
        rows=1000,
        metrics={"accuracy": 0.91, "log_loss": 0.25, "f1": 0.8},
        slices={
            "country=NO": {"rows": 120, "expression": "country == 'NO'", "metrics": {"f1": 0.7}},
            XSS: {"rows": 3, "expression": XSS, "metrics": {"f1": 0.5, "accuracy": 0.6}},
        },
        fairness={
            "gender": {
                "groups": {
                    "f": {"count": 480, "accuracy": 0.9},
                    "m": {"count": 520, "accuracy": 0.92},
                },
                "demographic_parity_difference": 0.04,
                "notices": ["small group"],
            }
        },
        latency={"batch_ms_per_row": 0.02, "single_row_ms_p50": 1.5},
        baseline=Comparison(
            model="models:/churn@champion",
            metrics={"accuracy": 0.89, "log_loss": 0.2, "f1": 0.8},
            deltas={"accuracy": 0.02, "log_loss": 0.05, "f1": 0.0},
            latency={"single_row_ms_p50": 1.2},
        ),
        notices=["shap skipped: not installed"],
        plots={"roc.png": tiny_png(), "confusion.png": tiny_png()},
    )


@pytest.fixture(scope="module")
def evaluated(ui_client: Client) -> str:
    run_id = ui_client.create_run("0", run_name=unique("evaluated")).info.run_id
    log_evaluation(ui_client, run_id, evaluation())
    gates = [
        {"gate": "min:f1:0.75", "passed": True, "message": "f1 0.8 >= 0.75"},
        {"gate": "regression:log_loss:0.01", "passed": False, "message": "log_loss rose 0.05"},
    ]
    ui_client.log_text(run_id, json.dumps(gates), "evaluation/gates.json")
    return run_id


def test_run_page_shows_metrics_deltas_slices_fairness_gates_and_plots(
    page: Any, evaluated: str, shot: Any
) -> None:
    page.goto(f"/runs/{evaluated}")
    section = page.locator("#evaluation")
    assert "classification of runs:/abc/model on 1000 rows" in section.inner_text()
    rows = page.locator("#evaluation-metrics tbody tr")
    assert rows.count() == 3
    accuracy = page.locator("#evaluation-metrics tr", has_text="accuracy")
    assert accuracy.locator("td.delta").get_attribute("class") == "num delta better"
    assert "+0.02" in accuracy.inner_text()
    loss = page.locator("#evaluation-metrics tr", has_text="log_loss")  # lower is better
    assert loss.locator("td.delta").get_attribute("class") == "num delta worse"
    f1 = page.locator("#evaluation-metrics tr", has_text="f1")
    assert f1.locator("td.delta").get_attribute("class") == "num delta same"
    color = page.evaluate(
        "() => getComputedStyle(document.querySelector('#evaluation-metrics td.worse')).color"
    )
    assert color == "rgb(185, 28, 28)"  # the light palette's --bad
    slices = page.locator("#evaluation-slices").inner_text()
    assert "country=NO" in slices and XSS in slices  # markup is text
    assert page.locator("#evaluation img[src='x']").count() == 0
    fairness = page.locator("#evaluation-fairness").inner_text()
    assert "demographic_parity_difference" in fairness and "0.04" in fairness
    assert "small group" in fairness
    latency = page.locator("#evaluation-latency").inner_text()
    assert "single_row_ms_p50" in latency and "baseline 1.2" in latency
    gates = page.locator("#evaluation-gates li")
    assert gates.count() == 2
    assert gates.nth(1).get_attribute("class") == "bad"
    assert "log_loss rose 0.05" in gates.nth(1).inner_text()
    assert "shap skipped" in page.locator("#evaluation-notices").inner_text()
    plots = page.locator("#evaluation-plots img")
    assert plots.count() == 2
    plots.last.scroll_into_view_if_needed()  # the plots load lazily
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#evaluation-plots img'))"
        ".every(i => i.complete && i.naturalWidth === 2)"
    )
    shot(page, "evaluation")


def test_the_plots_come_from_the_safe_artifact_route(page: Any, evaluated: str) -> None:
    page.goto(f"/runs/{evaluated}")
    src = page.locator("#evaluation-plots img").first.get_attribute("src")
    assert src.startswith(f"/ui/runs/{evaluated}/artifact?")
    response = page.request.get(src)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "image/png"
    assert "inline" in response.headers["content-disposition"]


def test_a_run_without_evaluation_has_no_section(page: Any, ui_client: Client) -> None:
    run_id = ui_client.create_run("0").info.run_id
    page.goto(f"/runs/{run_id}")
    assert page.locator("#evaluation").count() == 0


def test_an_unreadable_evaluation_is_a_message_not_an_error_page(
    page: Any, ui_client: Client
) -> None:
    run_id = ui_client.create_run("0").info.run_id
    ui_client.log_artifact_stream(run_id, io.BytesIO(b"{not json"), "evaluation/evaluation.json")
    page.goto(f"/runs/{run_id}")
    assert "not valid JSON" in page.locator("#evaluation-problem").inner_text()
    other = ui_client.create_run("0").info.run_id
    ui_client.log_text(other, json.dumps({"format": 99}), "evaluation/evaluation.json")
    page.goto(f"/runs/{other}")
    assert "format 1" in page.locator("#evaluation-problem").inner_text()


def test_model_version_page_shows_the_evaluation_ci_logged_for_its_run(
    page: Any, ui_client: Client, tmp_path: Path, shot: Any
) -> None:
    run_id = model_run(ui_client, tmp_path, {"auc": 0.9})
    child = ui_client.create_run(
        "0",
        run_name="ci-evaluation",
        parent_run_id=run_id,
        tags={"loopml.evaluation.model": f"runs:/{run_id}/model"},
    ).info.run_id
    log_evaluation(ui_client, child, evaluation())
    name = unique("evaluated-model")
    version = Registry(ui_client).create_model_version(name, f"runs:/{run_id}/model")
    page.goto(f"/models/{name}/versions/{version.version}")
    section = page.locator("#evaluation")
    assert f"from run {child[:8]}" in section.locator("h2").inner_text()
    assert page.locator("#evaluation-metrics tbody tr").count() == 3
    assert page.locator("#evaluation-plots img").count() == 2
    assert page.locator("#evaluation-gates").count() == 0  # no gates.json here
    shot(page, "model-version")


@pytest.mark.parametrize(
    ("metric", "delta", "expected"),
    [
        ("f1", 0.1, "better"),
        ("f1", -0.1, "worse"),
        ("rmse", 0.1, "worse"),
        ("mae", -1, "better"),
        ("f1", 0.0, "same"),
        ("f1", None, None),
        ("f1", float("nan"), None),
    ],
)
def test_verdict_follows_the_regression_gates_direction(
    metric: str, delta: Any, expected: str | None
) -> None:
    assert verdict(metric, delta) == expected
