"""Window quality metrics agree with scikit-learn on the same rows (sklearn used in tests only)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument
from loopml.monitoring._performance import (
    binary_auc,
    classification_metrics,
    performance,
    regression_metrics,
)

skm = pytest.importorskip("sklearn.metrics")

RNG = np.random.default_rng(11)


def _close(got: float | None, want: float) -> None:
    assert got is not None
    assert math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-12), (got, want)


def _sk_labels(y_true: Any, y_pred: Any, *, pos_label: Any = 1, average: str = "binary") -> dict:
    kwargs: dict[str, Any] = {"average": average, "zero_division": 0}
    if average == "binary":
        kwargs["pos_label"] = pos_label
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, **kwargs),
        "recall": skm.recall_score(y_true, y_pred, **kwargs),
        "f1": skm.f1_score(y_true, y_pred, **kwargs),
    }


def _assert_labels(got: dict, want: dict) -> None:
    for key, value in want.items():
        _close(got[key], value)


def test_binary_hard_labels_match_sklearn() -> None:
    y_true = RNG.integers(0, 2, size=500)
    y_pred = np.where(RNG.random(500) < 0.8, y_true, 1 - y_true)
    got = classification_metrics(y_true, y_pred)
    _assert_labels(got, _sk_labels(y_true, y_pred))
    _close(got["roc_auc"], skm.roc_auc_score(y_true, y_pred))
    assert got["accuracy"] != 1.0  # the data has mistakes, so the check can fail


def test_binary_probabilities_threshold_and_auc_with_ties() -> None:
    y_true = RNG.integers(0, 2, size=400).astype(bool)
    # Rounded scores give many ties, which the rank AUC must average like sklearn.
    y_score = np.round(np.clip(0.3 * y_true + RNG.random(400) * 0.7, 0, 1), 1)
    got = classification_metrics(list(y_true), list(y_score))
    _assert_labels(got, _sk_labels(y_true, y_score >= 0.5, pos_label=True))
    _close(got["roc_auc"], skm.roc_auc_score(y_true, y_score))
    assert 0.5 < got["roc_auc"] < 1.0  # type: ignore[operator]


def test_multiclass_labels_macro_and_no_auc() -> None:
    y_true = RNG.integers(0, 4, size=600)
    y_pred = np.where(RNG.random(600) < 0.6, y_true, RNG.integers(0, 4, size=600))
    got = classification_metrics(y_true, y_pred)
    _assert_labels(got, _sk_labels(y_true, y_pred, average="macro"))
    assert got["roc_auc"] is None


def test_multiclass_probability_lists_argmax_and_ovr_auc() -> None:
    y_true = RNG.integers(0, 3, size=500)
    logits = RNG.normal(size=(500, 3)) + 1.5 * np.eye(3)[y_true]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    got = classification_metrics(y_true, [list(row) for row in proba])
    _assert_labels(got, _sk_labels(y_true, proba.argmax(axis=1), average="macro"))
    _close(got["roc_auc"], skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro"))


def test_probability_dicts_with_json_text_keys_and_string_labels() -> None:
    names = np.array(["bird", "cat", "dog"])
    codes = RNG.integers(0, 3, size=300)
    logits = RNG.normal(size=(300, 3)) + np.eye(3)[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    dicts = [dict(zip(names.tolist(), row.tolist(), strict=True)) for row in proba]
    got = classification_metrics(names[codes].tolist(), dicts)
    _assert_labels(got, _sk_labels(names[codes], names[proba.argmax(axis=1)], average="macro"))
    _close(got["roc_auc"], skm.roc_auc_score(codes, proba, multi_class="ovr"))
    # Integer labels with dicts whose keys JSON turned into text.
    text_keys = [{str(i): p for i, p in enumerate(row.tolist())} for row in proba]
    assert classification_metrics(codes.tolist(), text_keys) == pytest.approx(
        classification_metrics(codes.tolist(), [list(r) for r in proba])
    )


def test_string_labels_binary_positive_is_the_greater_label() -> None:
    y_true = np.array(["no", "yes"])[RNG.integers(0, 2, size=300)]
    flip = RNG.random(300) < 0.25
    y_pred = np.where(flip, np.where(y_true == "yes", "no", "yes"), y_true)
    got = classification_metrics(y_true.tolist(), y_pred.tolist())
    _assert_labels(got, _sk_labels(y_true, y_pred, pos_label="yes"))
    _close(got["roc_auc"], skm.roc_auc_score(y_true == "yes", y_pred == "yes"))


def test_regression_matches_sklearn() -> None:
    y_true = RNG.normal(10, 3, size=400)
    y_pred = y_true + RNG.normal(0, 1, size=400)
    got = regression_metrics(y_true, y_pred)
    _close(got["mae"], skm.mean_absolute_error(y_true, y_pred))
    _close(got["rmse"], math.sqrt(skm.mean_squared_error(y_true, y_pred)))
    _close(got["r2"], skm.r2_score(y_true, y_pred))


def test_rows_with_a_missing_side_are_skipped() -> None:
    y_true = [1, 0, None, 1, 0, 1, np.nan]
    y_pred = [1, 1, 0, None, 0, 0, 1]
    got = classification_metrics(y_true, y_pred)
    _assert_labels(got, _sk_labels([1, 0, 0, 1], [1, 1, 0, 0]))
    series = pd.Series([1.0, None, 3.0, 4.0])
    got = regression_metrics(series, pd.Series([1.5, 2.0, None, 5.0]))
    _close(got["mae"], skm.mean_absolute_error([1.0, 4.0], [1.5, 5.0]))
    nullable = pd.Series([1, pd.NA, 0, 1], dtype="Int64")
    assert classification_metrics(nullable, [1, 1, 0, 0])["accuracy"] == pytest.approx(2 / 3)


def test_single_class_has_no_auc() -> None:
    got = classification_metrics([1, 1, 1, 1], [1, 0, 1, 1])
    assert got["roc_auc"] is None
    _assert_labels(got, _sk_labels([1, 1, 1, 1], [1, 0, 1, 1]))
    assert classification_metrics([0, 0], [0.2, 0.9])["roc_auc"] is None
    only_cat = classification_metrics(["cat", "cat"], ["cat", "cat"])
    assert only_cat["accuracy"] == 1.0 and only_cat["precision"] is None  # no positive class


def test_empty_after_dropping_nulls_is_an_empty_dict() -> None:
    assert classification_metrics([], []) == {}
    assert performance("classification", [None, None], [1, 0]) == {}
    assert performance("regression", [1.0, np.nan], [np.nan, 2.0]) == {}


def test_r2_undefined_for_one_row_or_constant_truth() -> None:
    assert regression_metrics([3.0], [2.0]) == {"mae": 1.0, "rmse": 1.0, "r2": None}
    assert regression_metrics([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])["r2"] is None


def test_rank_auc_on_perfect_and_inverted_scores() -> None:
    positive = np.array([False, False, True, True])
    assert binary_auc(positive, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert binary_auc(positive, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert binary_auc(positive, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: performance("ranking", [1], [1]), "unknown task 'ranking'"),
        (lambda: classification_metrics([1, 0], [1]), "pass one prediction per label"),
        (lambda: classification_metrics([1, "a"], [1, "a"]), "mix value types"),
        (lambda: classification_metrics([0, 1], [[0.1, 0.9], [0.2]]), "different lengths"),
        (lambda: classification_metrics(["a", "b"], [[0.1, 0.2, 0.7]] * 2), "which class"),
        (lambda: classification_metrics([0, 1], [[0.1, 0.9], 1]), "mix probability lists"),
        (lambda: regression_metrics([1.0, 2.0], ["a", "b"]), "need numbers"),
        (lambda: regression_metrics("12", "12"), "must be a sequence"),
    ],
)
def test_bad_input_is_a_clear_invalid_argument(call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()
