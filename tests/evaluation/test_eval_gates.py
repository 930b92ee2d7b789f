"""Gates on an evaluation: each kind, their three spellings, and promotion through them."""

from __future__ import annotations

import pandas as pd
import pytest

import loopml as lm
from churn_models import churn, log_classifier
from loopml.core.errors import InvalidArgument
from loopml.evaluation import (
    Comparison,
    Evaluation,
    MaxFairnessDifference,
    MaxLatency,
    MaxMetric,
    MaxRegression,
    MinMetric,
    SignatureCompatible,
    check_gates,
    evaluation_gates,
    parse_check,
)
from loopml.registry import Registry


def _evaluation(baseline: Comparison | None = None) -> Evaluation:
    return Evaluation(
        model="runs:/x/model",
        task="classification",
        target="y",
        rows=100,
        metrics={"f1": 0.8, "roc_auc": 0.9, "log_loss": 0.4},
        slices={
            "plan=basic": {"rows": 50, "metrics": {"f1": 0.6, "roc_auc": 0.85}},
            "empty": {"rows": 0, "metrics": {}},
        },
        fairness={
            "gender": {"demographic_parity_difference": 0.12, "equalized_odds_difference": 0.05}
        },
        latency={"batch_ms_per_row": 0.5, "single_row_ms_p95": 4.0},
        baseline=baseline,
    )


def _baseline(**metrics: float) -> Comparison:
    return Comparison(
        model="models:/m/1",
        metrics=metrics,
        deltas={},
        slices={"plan=basic": {"metrics": {"f1": 0.7}, "deltas": {}}},
    )


def test_min_and_max_metric_overall_and_per_slice() -> None:
    evaluation = _evaluation()
    assert MinMetric("f1", 0.75).check(evaluation).passed
    failed = MinMetric("f1", 0.75, slice="*").check(evaluation)
    assert not failed.passed and "on slice 'plan=basic'" in failed.message
    assert MaxMetric("log_loss", 0.5).check(evaluation).passed
    assert not MaxMetric("log_loss", 0.3).check(evaluation).passed
    missing = MinMetric("recall", 0.1).check(evaluation)
    assert not missing.passed and "not available" in missing.message


def test_regression_against_the_baseline_overall_and_per_slice() -> None:
    evaluation = _evaluation(_baseline(f1=0.79, roc_auc=0.95, log_loss=0.35))
    assert MaxRegression("f1", 0.02).check(evaluation).passed
    per_slice = MaxRegression("f1", 0.02, slices=True).check(evaluation)
    assert not per_slice.passed and "plan=basic" in per_slice.message
    assert not MaxRegression("roc_auc", 0.01).check(evaluation).passed
    # log loss is lower-is-better: 0.4 vs 0.35 is worse by 0.05.
    assert not MaxRegression("log_loss", 0.01).check(evaluation).passed
    assert MaxRegression("log_loss", 0.06).check(evaluation).passed
    assert MaxRegression("f1").check(_evaluation(None)).message == "no baseline to compare with"


def test_fairness_latency_signature() -> None:
    evaluation = _evaluation()
    assert not MaxFairnessDifference(0.1).check(evaluation).passed
    assert MaxFairnessDifference(0.1, "equalized_odds_difference").check(evaluation).passed
    assert MaxLatency(ms_per_row=1.0).check(evaluation).passed
    assert not MaxLatency(single_row_p95_ms=2.0).check(evaluation).passed
    incompatible = _baseline(f1=0.5)
    incompatible.signature_problems = ["column 'age' is missing"]
    result = SignatureCompatible().check(_evaluation(incompatible))
    assert not result.passed and "age" in result.message
    unfair = MaxFairnessDifference(0.1).check(Evaluation("m", "regression", "y", 1, {}))
    assert not unfair.passed and "sensitive_features" in unfair.message


def test_three_spellings_agree() -> None:
    evaluation = _evaluation(_baseline(f1=0.79, roc_auc=0.95))
    texts = ["min:f1:0.75", "regression:f1:0.02:slices", "fairness:0.1", "latency:1", "signature"]
    dicts = [
        {"type": "min_metric", "metric": "f1", "threshold": 0.75},
        {"type": "max_regression", "metric": "f1", "max_drop": 0.02, "slices": True},
        {"type": "max_fairness_difference", "max": 0.1},
        {"type": "max_latency", "ms_per_row": 1},
        {"type": "signature"},
    ]
    by_text = [(r.gate, r.passed) for r in check_gates(evaluation, texts)]
    by_dict = [(r.gate, r.passed) for r in check_gates(evaluation, dicts)]
    assert by_text == by_dict
    assert [passed for _, passed in by_text] == [True, False, False, True, True]
    assert parse_check("min:f1:0.75").describe() == dicts[0]


@pytest.mark.parametrize(
    "text",
    [
        "min:f1",
        "min:f1:abc",
        "regression:f1:0.1:everything",
        "latency",
        "nonsense:1",
        "signature:x",
    ],
)
def test_malformed_gates_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument, match="Invalid gate"):
        parse_check(text)


def test_malformed_gate_data_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="Unknown gate type"):
        check_gates(_evaluation(), [{"type": "nope"}])
    with pytest.raises(InvalidArgument, match="Invalid min_metric gate"):
        check_gates(_evaluation(), [{"type": "min_metric", "metric": "f1"}])
    with pytest.raises(InvalidArgument, match="finite number"):
        MinMetric("f1", float("nan"))
    unknown_slice = check_gates(_evaluation(), [MinMetric("f1", 0.1, slice="nope")])[0]
    assert not unknown_slice.passed and "no slice 'nope'" in unknown_slice.message


def test_promotion_through_evaluation_gates(sdk: str) -> None:
    train, holdout = churn(600, seed=0), churn(300, seed=1)
    registry = Registry()
    good = registry.create_model_version("churn", log_classifier(train))
    weak = registry.create_model_version("churn", log_classifier(train, weak=True))
    gates = evaluation_gates(
        holdout,
        target="churned",
        checks=["min:roc_auc:0.6", MaxRegression("roc_auc", 0.01), "signature"],
    )
    first = lm.promote("churn", good.version, "champion", gates=gates)
    assert first.promoted
    assert [r.passed for r in first.gate_results] == [True, True, True]
    second = lm.promote("churn", weak.version, "champion", gates=gates)
    assert not second.promoted
    verdicts = {r.gate: r for r in second.gate_results}
    assert not verdicts["min_metric:roc_auc"].passed
    assert not verdicts["max_regression:roc_auc"].passed
    assert "vs baseline" in verdicts["max_regression:roc_auc"].message
    assert registry.get_registered_model("churn").aliases["champion"] == good.version


def test_promotion_gate_with_data_it_cannot_read_fails_closed(sdk: str) -> None:
    train = churn(300, seed=0)
    registry = Registry()
    version = registry.create_model_version("churn", log_classifier(train))
    gates = evaluation_gates(pd.DataFrame({"x": [1]}), target="churned", checks=["min:f1:0.1"])
    result = lm.promote("churn", version.version, "champion", gates=gates)
    assert not result.promoted
    assert "no target column" in result.gate_results[0].message
