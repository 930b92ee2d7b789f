"""Fairness report per sensitive feature against hand-computed group metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument
from loopml.evaluation._fairness import fairness_report

# Group a: TP FN TN FP; group b: TP FP; missing group: TP TN.
TRUE = [1, 1, 0, 0, 1, 0, 1, 0]
PRED = [1, 0, 0, 1, 1, 1, 1, 0]
GROUPS = ["a", "a", "a", "a", "b", "b", None, None]
EXPECTED_GROUPS = {
    "a": {"count": 4, "accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5,
          "selection_rate": 0.5},
    "b": {"count": 2, "accuracy": 0.5, "precision": 0.5, "recall": 1.0, "f1": 2 / 3,
          "selection_rate": 1.0},
    "<missing>": {"count": 2, "accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0,
                  "selection_rate": 0.5},
}  # fmt: skip


def _approx_groups(found: dict, expected: dict) -> None:
    assert set(found) == set(expected)
    for group, metrics in expected.items():
        assert found[group] == pytest.approx(metrics), group


def test_binary_report_matches_hand_computation():
    sensitive = pd.DataFrame({"region": GROUPS, "plan": ["p"] * 8})
    report = fairness_report(np.array(TRUE), np.array(PRED), sensitive, "classification", 1)
    region = report["region"]
    _approx_groups(region["groups"], EXPECTED_GROUPS)
    # selection rates .5 / 1 / .5; true positive rates .5 / 1 / 1; false positive rates .5 / 1 / 0
    assert region["demographic_parity_difference"] == pytest.approx(0.5)
    assert region["equalized_odds_difference"] == pytest.approx(1.0)
    assert region["notices"] == []
    json.dumps(report)  # plain values only


def test_string_labels_with_a_positive_label_give_the_same_report():
    names = {0: "stay", 1: "churn"}
    truth = np.array([names[v] for v in TRUE], dtype=object)
    predicted = np.array([names[v] for v in PRED], dtype=object)
    report = fairness_report(truth, predicted, pd.DataFrame({"region": GROUPS}), "classification",
                             "churn")  # fmt: skip
    _approx_groups(report["region"]["groups"], EXPECTED_GROUPS)
    assert report["region"]["equalized_odds_difference"] == pytest.approx(1.0)


def test_a_single_group_has_zero_differences_and_a_notice():
    report = fairness_report(
        np.array(TRUE), np.array(PRED), pd.DataFrame({"plan": ["p"] * 8}), "classification", 1
    )
    plan = report["plan"]
    assert plan["demographic_parity_difference"] == 0.0
    assert plan["equalized_odds_difference"] == 0.0
    assert plan["groups"]["p"]["count"] == 8
    assert plan["groups"]["p"]["selection_rate"] == pytest.approx(5 / 8)
    assert any("only one group" in n for n in plan["notices"])


def test_groups_without_positives_are_reported_and_numeric_groups_are_strings():
    sensitive = pd.DataFrame({"age_band": [1, 1, 2, 2]})
    report = fairness_report(np.array([0, 0, 1, 0]), np.array([1, 0, 1, 0]), sensitive,
                             "classification", 1)  # fmt: skip
    band = report["age_band"]
    assert set(band["groups"]) == {"1", "2"}
    assert math.isnan(band["groups"]["1"]["recall"])  # no true positives in the group
    assert band["demographic_parity_difference"] == pytest.approx(0.0)  # .5 and .5
    # TPR: group 1 counts as 0 (no positives), group 2 is 1; FPR .5 and 0.
    assert band["equalized_odds_difference"] == pytest.approx(1.0)
    assert any("group '1' has no positive true label" in n for n in band["notices"])


def test_multiclass_reports_accuracy_only_with_a_notice():
    report = fairness_report(
        np.array(["p", "q", "r", "p"]),
        np.array(["p", "q", "q", "p"]),
        pd.DataFrame({"g": ["x", "x", "y", "y"]}),
        "classification",
        None,
    )
    g = report["g"]
    assert g["groups"] == {"x": {"count": 2, "accuracy": 1.0}, "y": {"count": 2, "accuracy": 0.5}}
    assert math.isnan(g["demographic_parity_difference"])
    assert math.isnan(g["equalized_odds_difference"])
    assert any("not a binary classifier" in n for n in g["notices"])


def test_regression_reports_errors_per_group():
    report = fairness_report(
        np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        np.array([1.0, 3.0, 5.0, 4.0, 5.0]),
        pd.DataFrame({"g": ["x", "x", "y", "y", None]}),
        "regression",
        None,
    )
    g = report["g"]
    # x: errors 0, 1 -> MAE .5, RMSE sqrt(.5); y: errors 2, 0 -> MAE 1, RMSE sqrt(2)
    assert g["groups"]["x"] == pytest.approx({"count": 2, "mae": 0.5, "rmse": math.sqrt(0.5)})
    assert g["groups"]["y"] == pytest.approx({"count": 2, "mae": 1.0, "rmse": math.sqrt(2)})
    assert g["groups"]["<missing>"] == pytest.approx({"count": 1, "mae": 0.0, "rmse": 0.0})
    assert g["max_mae_difference"] == pytest.approx(1.0)
    assert "demographic_parity_difference" not in g


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "ranking"}, "Unknown task 'ranking'"),
        ({"sensitive": pd.DataFrame({"g": ["a"]})}, "length mismatch"),
        ({"sensitive": ["a", "b"]}, "must be a DataFrame"),
        ({"task": "regression", "y_true": np.array(["a", "b"])}, "numeric"),
    ],
)
def test_bad_input_is_invalid_argument(kwargs, message):
    arguments = {
        "y_true": np.array([0, 1]),
        "y_pred": np.array([0, 1]),
        "sensitive": pd.DataFrame({"g": ["a", "b"]}),
        "task": "classification",
        "positive": 1,
    } | kwargs
    with pytest.raises(InvalidArgument, match=message):
        fairness_report(**arguments)
