"""Classification and regression metrics against values worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from loopml.core.errors import InvalidArgument
from loopml.evaluation._metrics import (
    calibration,
    classification_metrics,
    confusion,
    positive_label,
    regression_metrics,
    residual_summary,
)

# Binary example: TP = 2, FP = 0, FN = 1, TN = 2.
TRUE = [0, 1, 1, 0, 1]
PRED = [0, 1, 0, 0, 1]
P_POS = [0.2, 0.9, 0.4, 0.3, 0.6]
# Probability given to the true class of each row, for the log loss.
P_TRUE_CLASS = [0.8, 0.9, 0.4, 0.7, 0.6]
BINARY = {
    "rows": 5.0,
    "accuracy": 0.8,
    "precision": 1.0,
    "recall": 2 / 3,
    "f1": 0.8,  # 2 * 1 * (2/3) / (1 + 2/3)
    "roc_auc": 1.0,  # every positive scores above every negative
    "log_loss": -sum(math.log(p) for p in P_TRUE_CLASS) / 5,
}


def _proba(positive_scores: list[float], positive_first: bool = False) -> np.ndarray:
    column = np.asarray(positive_scores)
    pair = [column, 1 - column] if positive_first else [1 - column, column]
    return np.column_stack(pair)


def _assert_metrics(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if math.isnan(value):
            assert math.isnan(actual[key]), key
        else:
            assert actual[key] == pytest.approx(value, abs=1e-12), key


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        ([0, 1], 1),
        ([1, 0], 1),
        ([-1, 1], 1),
        ([True, False], True),
        (np.array([False, True]), True),
        (["yes", "no"], "yes"),
        (["N", "Y"], "Y"),
        (["True", "False"], "True"),
        (["negative", "positive"], "positive"),
        (["churned", "active"], "churned"),  # no positive name: sorted last
        (["b", "a"], "b"),
        ([1, "a"], "a"),  # does not sort: the model's order
        ([0, 1, 2], None),
        (["a"], None),
    ],
)
def test_positive_label(classes, expected):
    found = positive_label(classes)
    assert found == expected and type(found) is type(expected)


def test_binary_metrics_match_hand_computation():
    _assert_metrics(classification_metrics(TRUE, PRED, _proba(P_POS), [0, 1]), BINARY)


def test_binary_metrics_are_the_same_for_string_and_boolean_labels_and_any_class_order():
    names = {0: "no", 1: "yes"}
    strings = ([names[v] for v in TRUE], [names[v] for v in PRED])
    proba = _proba(P_POS, positive_first=True)
    _assert_metrics(classification_metrics(*strings, proba, ["yes", "no"]), BINARY)
    booleans = (np.array(TRUE, dtype=bool), np.array(PRED, dtype=bool))
    _assert_metrics(classification_metrics(*booleans, _proba(P_POS), [False, True]), BINARY)
    # A 1-D proba is the positive class's probability.
    _assert_metrics(classification_metrics(*booleans, np.array(P_POS), [False, True]), BINARY)


def test_roc_auc_counts_ordered_pairs():
    # Positives score .9 .4 .6, negatives .2 .5: five of the six pairs are ordered.
    found = classification_metrics(
        [0, 1, 1, 0, 1], [0] * 5, _proba([0.2, 0.9, 0.4, 0.5, 0.6]), [0, 1]
    )
    assert found["roc_auc"] == pytest.approx(5 / 6)
    assert math.isnan(found["precision"])  # nothing predicted positive: undefined, not 0
    assert found["recall"] == 0.0


def test_metrics_without_proba_have_no_roc_auc_or_log_loss():
    found = classification_metrics(TRUE, PRED, None, [0, 1])
    assert set(found) == {"rows", "accuracy", "precision", "recall", "f1"}


def test_one_class_present_gives_nan_roc_auc_and_recall():
    found = classification_metrics(["no", "no"], ["no", "yes"], _proba([0.1, 0.8]), ["no", "yes"])
    assert found["accuracy"] == 0.5
    assert found["precision"] == 0.0  # one predicted positive, wrong
    assert math.isnan(found["recall"]) and math.isnan(found["roc_auc"])
    assert found["log_loss"] == pytest.approx(-(math.log(0.9) + math.log(0.2)) / 2)


# Multiclass example: per class (precision, recall) = (1, 1), (.5, .5), (.5, .5).
MC_TRUE = [0, 1, 2, 2, 1]
MC_PRED = [0, 2, 2, 1, 1]
MC_PROBA = np.array(
    [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.1, 0.7], [0.1, 0.5, 0.4], [0.1, 0.6, 0.3]]
)


def test_multiclass_metrics_are_macro_averages():
    found = classification_metrics(MC_TRUE, MC_PRED, MC_PROBA, [0, 1, 2])
    expected = {
        "rows": 5.0,
        "accuracy": 3 / 5,
        "precision": 2 / 3,
        "recall": 2 / 3,
        "f1": 2 / 3,
        # one-vs-rest AUC per class: 1, 5/6, 5/6
        "roc_auc": 8 / 9,
        "log_loss": -sum(math.log(p) for p in [0.7, 0.3, 0.7, 0.4, 0.6]) / 5,
    }
    _assert_metrics(found, expected)


def test_multiclass_roc_auc_averages_the_classes_present():
    # Class 0 is absent from the slice; classes 1 and 2 each order 3 of 4 pairs.
    found = classification_metrics(MC_TRUE[1:], MC_PRED[1:], MC_PROBA[1:], [0, 1, 2])
    assert found["roc_auc"] == pytest.approx(0.75)


def test_no_rows_give_nan_everywhere():
    found = classification_metrics([], [], np.zeros((0, 2)), [0, 1])
    assert found["rows"] == 0.0
    assert all(math.isnan(v) for k, v in found.items() if k != "rows")
    regression = regression_metrics([], [])
    assert regression["rows"] == 0.0 and math.isnan(regression["mae"])
    assert math.isnan(residual_summary([], [])["mean"])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "proba", "message"),
    [
        ([0, 3], [0, 1], None, "y_true holds label(s) 3"),
        ([0, 1], ["0", "1"], None, "y_pred holds label(s) '0', '1'"),
        ([0, 1, 1], [0, 1], None, "length mismatch"),
        ([0, 1], [0, 1], np.ones((2, 3)) / 3, "proba must have shape (2, 2)"),
        ([0, 1], [0, 1], np.array([[0.5, np.nan], [0.5, 0.5]]), "missing or infinite"),
    ],
)
def test_bad_classification_input_is_invalid_argument(y_true, y_pred, proba, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        classification_metrics(y_true, y_pred, proba, [0, 1])


def test_confusion_rows_are_true_columns_predicted_every_class_included():
    found = confusion(["a", "b", "a", "b", "a"], ["a", "a", "a", "b", "b"], ["a", "b", "c"])
    assert found == {"labels": ["a", "b", "c"], "matrix": [[2, 1, 0], [1, 1, 0], [0, 0, 0]]}
    booleans = confusion(np.array([True, False]), np.array([True, True]), np.array([False, True]))
    assert booleans == {"labels": [False, True], "matrix": [[0, 1], [0, 1]]}
    json.dumps(booleans)  # plain Python values, not numpy scalars
    assert confusion([], [], [0, 1])["matrix"] == [[0, 0], [0, 0]]


def test_calibration_bins_hand_computed():
    truth = ["no", "no", "yes", "yes", "yes", "no"]
    scores = [0.05, 0.15, 0.12, 0.85, 0.95, 0.92]
    found = calibration(truth, scores, "yes", bins=10)
    # Non-empty bins: [0, .1), [.1, .2), [.8, .9), [.9, 1].
    assert found["count"] == [1, 2, 1, 2]
    assert found["prob_pred"] == pytest.approx([0.05, 0.135, 0.85, 0.935])
    assert found["prob_true"] == pytest.approx([0.0, 0.5, 1.0, 0.5])
    json.dumps(found)


def test_calibration_with_one_class_and_bad_probabilities():
    found = calibration([1, 1], [0.3, 0.35], 1, bins=2)
    assert found == {"prob_pred": [pytest.approx(0.325)], "prob_true": [1.0], "count": [2]}
    with pytest.raises(InvalidArgument, match="outside"):
        calibration([0, 1], [0.5, 1.5], 1)
    with pytest.raises(InvalidArgument, match="at least 1 bin"):
        calibration([0, 1], [0.5, 0.5], 1, bins=0)


def test_regression_metrics_hand_computed():
    truth, predicted = [3, -0.5, 2, 7], [2.5, 0.0, 2, 8]
    found = regression_metrics(truth, predicted)
    # squared errors .25 .25 0 1; deviations from the mean 2.875 square to 29.1875
    assert found["mae"] == pytest.approx(0.5)
    assert found["rmse"] == pytest.approx(math.sqrt(0.375))
    assert found["r2"] == pytest.approx(1 - 1.5 / 29.1875)
    assert found["mape"] == pytest.approx((0.5 / 3 + 0.5 / 0.5 + 0 + 1 / 7) / 4)
    assert found["rows"] == 4.0


def test_regression_metrics_undefined_cases_are_nan():
    assert math.isnan(regression_metrics([1.0], [2.0])["r2"])  # one row
    assert math.isnan(regression_metrics([2.0, 2.0], [1.0, 3.0])["r2"])  # constant truth
    zero = regression_metrics([0.0, 2.0], [1.0, 1.0])
    assert math.isnan(zero["mape"]) and zero["mae"] == 1.0


def test_residual_summary_hand_computed():
    found = residual_summary([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])  # residuals .5 -.5 0 -1
    assert found["mean"] == pytest.approx(-0.25)
    assert found["std"] == pytest.approx(math.sqrt(0.3125))
    assert found["p50"] == pytest.approx(-0.25)
    assert found["p5"] == pytest.approx(-0.925)  # linear between sorted -1 and -.5
    assert found["p95"] == pytest.approx(0.425)
    assert found["rows"] == 4.0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (["a", "b"], [1.0, 2.0], "y_true must be numeric"),
        ([1.0, np.nan], [1.0, 2.0], "y_true holds 1 missing"),
        ([1.0, 2.0], [1.0], "length mismatch"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "one-dimensional"),
    ],
)
def test_bad_regression_input_is_invalid_argument(y_true, y_pred, message):
    with pytest.raises(InvalidArgument, match=message):
        regression_metrics(y_true, y_pred)
    with pytest.raises(InvalidArgument, match=message):
        residual_summary(y_true, y_pred)
