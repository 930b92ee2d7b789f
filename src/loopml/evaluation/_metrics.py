"""Metrics of one set of predictions: classification, regression, confusion and calibration.

Pure functions over arrays; scikit-learn computes every number so loopml's values
match what users get from sklearn themselves. Undefined values (a metric of one
class, of no rows) are ``float("nan")``, never an exception: a slice that holds
one class must not stop an evaluation. Returned dictionaries hold plain Python
values so they go to JSON as they are (the caller turns nan into null).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from loopml.core.errors import InvalidArgument

NAN = float("nan")
# Names a binary problem commonly gives its positive class (compared case-insensitively).
_POSITIVE_NAMES = frozenset({"1", "true", "yes", "y", "positive", "pos", "t"})


def positive_label(classes: Sequence[Any]) -> Any:
    """The class a binary problem's precision, recall, ROC and calibration are about.

    For string labels the one named like a positive (``"yes"``, ``"true"``, ``"1"``,
    ``"positive"``, ``"y"``... case-insensitive) when exactly one of the two is;
    otherwise the larger class in sorted order, which is ``1`` of 0/1 and -1/1
    labels and ``True`` of booleans; a plain Python value (JSON-ready). ``None``
    when there are not exactly two classes: multiclass metrics are macro
    averages with no positive.
    """
    classes = list(classes)
    if len(classes) != 2:
        return None
    marked = [c for c in classes if _looks_positive(c)]
    if len(marked) == 1:
        return _plain(marked[0])
    try:
        return _plain(sorted(classes)[-1])
    except TypeError:  # labels of mixed types do not sort; keep the model's order
        return _plain(classes[-1])


def _looks_positive(value: Any) -> bool:
    # Numbers and booleans need no names: 0/1, -1/1 and False/True all sort positive last.
    return isinstance(value, str) and value.strip().lower() in _POSITIVE_NAMES


def classification_metrics(
    y_true: Any, y_pred: Any, proba: np.ndarray | None, classes: Sequence[Any]
) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC AUC and log loss of one prediction set, plus ``rows``.

    Binary problems (two ``classes``) report precision/recall/F1 of
    :func:`positive_label`; multiclass ones the macro average over the classes
    that are defined (a class never true nor predicted is left out, not counted as
    0). ``proba`` has one column per class in ``classes`` order (a 1-D array is
    taken as the positive class's probability of a binary problem); without it
    ``roc_auc`` and ``log_loss`` are absent. ROC AUC is one-vs-rest macro over the
    classes present in ``y_true`` and nan when fewer than two are present.
    """
    classes = list(classes)
    truth, predicted = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    _same_length(truth, predicted)
    _known_labels(truth, classes, "y_true")
    _known_labels(predicted, classes, "y_pred")
    positive = positive_label(classes)
    rows = len(truth)
    metrics: dict[str, float] = {"rows": float(rows)}
    if rows == 0:
        metrics |= {"accuracy": NAN, "precision": NAN, "recall": NAN, "f1": NAN}
    else:
        metrics["accuracy"] = float(accuracy_score(truth, predicted))
        if positive is not None:
            # As booleans sklearn needs no label bookkeeping, whatever the class type.
            scores = precision_recall_fscore_support(
                truth == positive,
                predicted == positive,
                average="binary",
                pos_label=True,
                zero_division=np.nan,
            )
        else:
            scores = precision_recall_fscore_support(
                truth, predicted, labels=classes, average="macro", zero_division=np.nan
            )
        metrics |= {"precision": scores[0], "recall": scores[1], "f1": scores[2]}
    if proba is not None:
        matrix = _proba_matrix(proba, classes, rows)
        metrics["roc_auc"] = _roc_auc(truth, matrix, classes, positive)
        metrics["log_loss"] = _log_loss(truth, matrix, classes) if rows else NAN
    return {key: _finite(value) for key, value in metrics.items()}


def _roc_auc(truth: np.ndarray, proba: np.ndarray, classes: list[Any], positive: Any) -> float:
    present = [i for i, c in enumerate(classes) if np.any(truth == c)]
    if len(present) < 2:
        return NAN  # sklearn warns and answers nan too; we skip the warning
    if positive is not None:
        return float(roc_auc_score(truth == positive, proba[:, classes.index(positive)]))
    # One-vs-rest per present class, averaged: sklearn's ovr macro, which would
    # answer nan as soon as one class of the model is absent from a slice.
    aucs = [roc_auc_score(truth == classes[i], proba[:, i]) for i in present]
    return float(np.mean(aucs))


def _log_loss(truth: np.ndarray, proba: np.ndarray, classes: list[Any]) -> float:
    if len(classes) < 2:
        return NAN
    # sklearn takes proba columns to be in sorted label order; positions keep ours.
    position = {label: index for index, label in enumerate(classes)}
    codes = np.array([position[label] for label in truth.tolist()])
    return float(log_loss(codes, proba, labels=list(range(len(classes)))))


def confusion(y_true: Any, y_pred: Any, classes: Sequence[Any]) -> dict[str, Any]:
    """The confusion matrix ``{"labels": [...], "matrix": [[int]]}``: rows true, columns predicted.

    Every class gets a row and a column, present or not, so matrices of
    different slices (and of a baseline) line up.
    """
    classes = list(classes)
    truth, predicted = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    _same_length(truth, predicted)
    _known_labels(truth, classes, "y_true")
    _known_labels(predicted, classes, "y_pred")
    if len(truth) == 0:
        matrix = np.zeros((len(classes), len(classes)), dtype=int)
    else:
        matrix = confusion_matrix(truth, predicted, labels=classes)
    return {"labels": [_plain(c) for c in classes], "matrix": matrix.astype(int).tolist()}


def calibration(
    y_true: Any, proba_positive: Any, positive: Any, bins: int = 10
) -> dict[str, list[float]]:
    """Reliability curve of the positive class: mean predicted vs observed rate per probability bin.

    ``bins`` uniform bins over [0, 1]; empty bins are left out, so the three
    lists (``prob_pred``, ``prob_true``, ``count``) have one entry per non-empty bin.
    """
    if bins < 1:
        raise InvalidArgument(f"calibration needs at least 1 bin, got {bins}")
    truth = _labels(y_true, "y_true") == positive
    scores = _numbers(proba_positive, "proba_positive")
    _same_length(truth, scores)
    if len(scores) == 0:
        return {"prob_pred": [], "prob_true": [], "count": []}
    if scores.min() < 0 or scores.max() > 1:
        raise InvalidArgument("proba_positive has values outside [0, 1]; pass probabilities")
    prob_true, prob_pred = calibration_curve(
        truth, scores, pos_label=True, n_bins=bins, strategy="uniform"
    )
    # The same binning as calibration_curve, which does not return the counts.
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], scores), minlength=bins)
    return {
        "prob_pred": [float(v) for v in prob_pred],
        "prob_true": [float(v) for v in prob_true],
        "count": [int(c) for c in counts[counts != 0]],
    }


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MAE, RMSE, R2 and MAPE of one prediction set, plus ``rows``.

    R2 is nan below two rows and when ``y_true`` is constant (undefined, where
    sklearn would answer 0 or 1 by convention); MAPE is a fraction (0.1 = 10 %)
    and nan when any ``y_true`` is 0, where sklearn would divide by its epsilon.
    """
    truth, predicted = _numbers(y_true, "y_true"), _numbers(y_pred, "y_pred")
    _same_length(truth, predicted)
    rows = len(truth)
    if rows == 0:
        return {"mae": NAN, "rmse": NAN, "r2": NAN, "mape": NAN, "rows": 0.0}
    return {
        "mae": _finite(mean_absolute_error(truth, predicted)),
        "rmse": _finite(root_mean_squared_error(truth, predicted)),
        # A constant y_true leaves R2 undefined (sklearn would answer 0 or 1 by convention).
        "r2": _finite(r2_score(truth, predicted)) if rows >= 2 and np.ptp(truth) > 0 else NAN,
        "mape": NAN
        if np.any(truth == 0)
        else _finite(mean_absolute_percentage_error(truth, predicted)),
        "rows": float(rows),
    }


def residual_summary(y_true: Any, y_pred: Any) -> dict[str, float]:
    """Distribution of the residuals ``y_true - y_pred``: mean, std, p5, p50, p95 and rows.

    ``std`` is the population standard deviation (0 for one row); all nan without rows.
    """
    truth, predicted = _numbers(y_true, "y_true"), _numbers(y_pred, "y_pred")
    _same_length(truth, predicted)
    if len(truth) == 0:
        return {"mean": NAN, "std": NAN, "p5": NAN, "p50": NAN, "p95": NAN, "rows": 0.0}
    residuals = truth - predicted
    p5, p50, p95 = np.percentile(residuals, [5, 50, 95])
    return {
        "mean": _finite(residuals.mean()),
        "std": _finite(residuals.std()),
        "p5": _finite(p5),
        "p50": _finite(p50),
        "p95": _finite(p95),
        "rows": float(len(residuals)),
    }


def _labels(values: Any, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidArgument(f"{what} must be one-dimensional, got shape {array.shape}")
    return array


def _numbers(values: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{what} must be numeric: {exc}") from None
    if array.ndim != 1:
        raise InvalidArgument(f"{what} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise InvalidArgument(f"{what} holds {bad} missing or infinite value(s)")
    return array


def _proba_matrix(proba: np.ndarray, classes: list[Any], rows: int) -> np.ndarray:
    matrix = _numbers(np.ravel(proba), "proba").reshape(np.shape(proba))
    if matrix.ndim == 1 and len(classes) == 2:
        positive = positive_label(classes)
        column = matrix if classes.index(positive) == 1 else 1 - matrix
        matrix = np.column_stack([1 - column, column])
    if matrix.ndim != 2 or matrix.shape != (rows, len(classes)):
        raise InvalidArgument(
            f"proba must have shape ({rows}, {len(classes)}) (one column per class), "
            f"got {np.shape(proba)}"
        )
    return matrix


def _same_length(first: np.ndarray, second: np.ndarray) -> None:
    if len(first) != len(second):
        raise InvalidArgument(f"length mismatch: {len(first)} true values, {len(second)} others")


def _known_labels(values: np.ndarray, classes: list[Any], what: str) -> None:
    known = set(classes)
    try:
        unknown = {v for v in values.tolist() if v not in known}
    except TypeError:  # unhashable labels
        raise InvalidArgument(f"{what} holds labels that are not scalars") from None
    if unknown:
        shown = sorted(map(repr, unknown))[:5]
        raise InvalidArgument(
            f"{what} holds label(s) {', '.join(shown)} not among the classes "
            f"{[_plain(c) for c in classes]}"
        )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _finite(value: Any) -> float:
    number = float(value)
    return number if math.isfinite(number) else NAN
