"""Model quality on a window's labelled rows, with NumPy only.

scikit-learn is not a core dependency, so the metrics are computed here; the
tests check each against ``sklearn.metrics`` on the same data. Rows where the
label or the prediction is missing are left out first, as a monitor only ever
sees the labels that have arrived.

Classification predictions may be class labels, binary probabilities (floats
in [0, 1] with labels in {0, 1}: positive at ``>= 0.5``, the float as the AUC
score), or per-row probability lists (index ``i`` is the ``i``-th sorted class)
or dicts (class -> probability; JSON turns keys into text, so ``"1"`` matches
the label ``1``). Binary metrics are those of the positive class: 1, True, or
the greater of the two labels; more classes give macro averages, as
scikit-learn's ``average="macro"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)
THRESHOLD = 0.5

Metrics = dict[str, float | None]


def _array(values: Any, name: str) -> np.ndarray:
    """A 1-D array (NumPy numeric when possible, else object) or a 2-D probability matrix."""
    if isinstance(values, np.ndarray) and values.ndim == 2:
        return values
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise InvalidArgument(f"{name} must be a sequence of values, got {type(values).__name__}")
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
        return series.to_numpy()
    return series.to_numpy(dtype=object)  # nullable and text dtypes too: pd.NA stays a null


def _nulls(values: np.ndarray) -> np.ndarray:
    if values.ndim == 2:
        return np.zeros(len(values), dtype=bool)
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "biu":
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pd.isna(values), dtype=bool)  # element-wise; a list is not null


def _paired(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    true, pred = _array(y_true, "y_true"), _array(y_pred, "y_pred")
    if len(true) != len(pred):
        raise InvalidArgument(
            f"y_true has {len(true)} values and y_pred {len(pred)}; pass one prediction per label"
        )
    keep = ~(_nulls(true) | _nulls(pred))
    return _settle(true[keep]), _settle(pred[keep])


def _settle(values: np.ndarray) -> np.ndarray:
    """Numbers in a NumPy dtype once nulls are gone, booleans as 0/1.

    True and 1 are then one class whichever side holds which, and float
    probabilities are recognised whether they came as float64 or objects.
    """
    if values.dtype == bool:
        return values.astype(np.int64)
    if values.dtype != object or values.ndim != 1 or not len(values):
        return values
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind == "boolean":
        return values.astype(bool).astype(np.int64)
    if kind == "integer":
        return values.astype(np.int64)
    if kind in ("floating", "mixed-integer-float"):
        return values.astype(np.float64)
    return values


def _is_container(value: Any) -> bool:
    return isinstance(value, list | tuple | dict | np.ndarray)


def _sorted_classes(values: np.ndarray) -> list[Any]:
    try:
        return sorted(pd.unique(values).tolist())
    except TypeError:
        kinds = sorted({type(v).__name__ for v in pd.unique(values).tolist()})
        raise InvalidArgument(
            f"labels and predictions mix value types ({', '.join(kinds)}) that cannot be "
            "ordered; log labels of the same type as the model's predictions"
        ) from None


def _codes(values: np.ndarray, classes: list[Any]) -> np.ndarray:
    return np.asarray(pd.Index(classes, dtype=object).get_indexer(values.astype(object)))


def _is_binary_label(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and value in (0, 1)


def _is_index(value: Any, width: int) -> bool:
    """A whole number in ``range(width)``; labels read back with nulls arrive as floats."""
    if not isinstance(value, int | float | np.integer | np.floating):
        return False
    return float(value).is_integer() and bool(0 <= value < width)


def _probability_matrix(pred: np.ndarray, true_classes: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Rows of class probabilities and the class each column is for."""
    if pred.ndim == 2:
        rows: Any = pred
    elif any(not _is_container(v) for v in pred):
        raise InvalidArgument(
            "predictions mix probability lists or dicts with single values; "
            "log one kind of prediction per model"
        )
    elif isinstance(pred[0], dict):
        if not all(isinstance(v, dict) for v in pred):
            raise InvalidArgument("predictions mix probability dicts with lists")
        by_text = {str(c): c for c in true_classes}
        keys: dict[Any, Any] = {}
        for row in pred:
            for key in row:
                if key not in keys:
                    keys[key] = key if key in true_classes else by_text.get(str(key), key)
        classes = _sorted_classes(np.array(list(keys.values()), dtype=object))
        column = {key: classes.index(label) for key, label in keys.items()}
        matrix = np.zeros((len(pred), len(classes)))
        for i, row in enumerate(pred):
            for key, probability in row.items():
                matrix[i, column[key]] = probability
        return matrix, classes
    else:
        widths = {len(v) for v in pred}
        if len(widths) != 1:
            raise InvalidArgument(
                f"probability lists have different lengths {sorted(widths)}; "
                "log one probability per class for every row"
            )
        rows = list(pred)
    try:
        matrix = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument("probability lists must hold numbers") from None
    width = matrix.shape[1]
    if len(true_classes) == width:
        return matrix, true_classes
    if len(true_classes) < width and all(_is_index(c, width) for c in true_classes):
        return matrix, list(range(width))  # some classes have no label in this window
    raise InvalidArgument(
        f"probability lists have {width} entries but the labels hold {len(true_classes)} "
        f"classes {true_classes[:10]}; cannot tell which class each probability is for "
        "(log dicts of class -> probability instead)"
    )


def _average_ranks(scores: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def binary_auc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC as the Mann-Whitney statistic with tied scores sharing their average rank.

    ``None`` when only one class is present (the AUC is undefined) or a score is
    not finite.
    """
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0 or not np.isfinite(scores).all():
        return None
    ranks = _average_ranks(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _class_scores(
    true_codes: np.ndarray, pred_codes: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1; 0 where undefined, as scikit-learn reports."""
    hits = np.bincount(true_codes[true_codes == pred_codes], minlength=k).astype(np.float64)
    predicted = np.bincount(pred_codes, minlength=k).astype(np.float64)
    actual = np.bincount(true_codes, minlength=k).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, hits / predicted, 0.0)
        recall = np.where(actual > 0, hits / actual, 0.0)
        f1 = np.where(predicted + actual > 0, 2 * hits / (predicted + actual), 0.0)
    return precision, recall, f1


def classification_metrics(y_true: Sequence[Any], y_pred: Sequence[Any]) -> Metrics:
    """accuracy, precision, recall, f1 and roc_auc, equal to ``sklearn.metrics`` on the same rows.

    Rows with a missing label or prediction are skipped; none left gives ``{}``.
    ``roc_auc`` is ``None`` when only one class has labels, and for several
    classes unless probabilities were given (one-vs-rest, macro over the
    labelled classes). With hard binary labels it is the AUC of the labels as
    scores, as ``roc_auc_score`` gives. InvalidArgument when the values cannot
    be compared (mixed types, probability lists of unequal length).
    """
    true, pred = _paired(y_true, y_pred)
    if len(true) == 0:
        return {}
    true_classes = _sorted_classes(true)
    matrix: np.ndarray | None = None
    proba_classes: list[Any] = []
    score: np.ndarray | None = None
    if pred.ndim == 2 or (pred.dtype == object and _is_container(pred[0])):
        matrix, proba_classes = _probability_matrix(pred, true_classes)
        labels = np.array(proba_classes, dtype=object)[matrix.argmax(axis=1)]
    elif (
        pred.dtype.kind == "f"
        and bool(((pred >= 0) & (pred <= 1)).all())
        and all(_is_binary_label(c) for c in true_classes)
    ):
        score = pred.astype(np.float64)
        labels = (score >= THRESHOLD).astype(np.int64)
    else:
        labels = pred
    classes = _sorted_classes(np.concatenate([true.astype(object), labels.astype(object)]))
    true_codes, pred_codes = _codes(true, classes), _codes(labels, classes)
    k = len(classes)
    precision, recall, f1 = _class_scores(true_codes, pred_codes, k)
    metrics: Metrics = {"accuracy": float(np.mean(true_codes == pred_codes))}

    if k > 2:
        metrics.update(
            precision=float(precision.mean()), recall=float(recall.mean()), f1=float(f1.mean())
        )
    else:
        positive: Any = 1 if all(_is_binary_label(c) for c in classes) else None
        if positive is None and k == 2:
            positive = classes[1]
        if positive is None:  # one class that is not 0/1: no class is "the positive one"
            metrics.update(precision=None, recall=None, f1=None)
        elif positive not in classes:  # only 0 occurs: nothing is, or is predicted, positive
            metrics.update(precision=0.0, recall=0.0, f1=0.0)
        else:
            at = classes.index(positive)
            metrics.update(
                precision=float(precision[at]), recall=float(recall[at]), f1=float(f1[at])
            )
    metrics["roc_auc"] = _roc_auc(true, true_classes, labels, score, matrix, proba_classes)
    return metrics


def _roc_auc(
    true: np.ndarray,
    true_classes: list[Any],
    labels: np.ndarray,
    score: np.ndarray | None,
    matrix: np.ndarray | None,
    proba_classes: list[Any],
) -> float | None:
    if len(true_classes) < 2:
        return None
    true_object = true.astype(object)
    if len(true_classes) == 2:
        positive = true_classes[1]
        is_positive = true_object == positive
        if score is not None:
            return binary_auc(is_positive, score)
        if matrix is not None:
            if positive not in proba_classes:
                return None
            return binary_auc(is_positive, matrix[:, proba_classes.index(positive)])
        return binary_auc(is_positive, (labels.astype(object) == positive).astype(np.float64))
    if matrix is None:
        return None
    aucs = []
    for label in true_classes:  # one-vs-rest over the classes that have labels
        if label not in proba_classes:
            return None
        auc = binary_auc(true_object == label, matrix[:, proba_classes.index(label)])
        if auc is None:
            return None
        aucs.append(auc)
    return float(np.mean(aucs))


def _numbers(values: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.asarray(pd.to_numeric(pd.Series(values), errors="raise"), dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"regression metrics need numbers, but {name} holds other values "
            f"(e.g. {values[:3].tolist()}); use task 'classification' for class labels"
        ) from None


def regression_metrics(y_true: Sequence[Any], y_pred: Sequence[Any]) -> Metrics:
    """mae, rmse and r2 over the rows where both values are present; ``{}`` when none are.

    ``r2`` is ``None`` with fewer than two rows or a constant ``y_true``, where
    it is undefined (scikit-learn reports 0 or 1 there by convention).
    """
    true, pred = _paired(y_true, y_pred)
    if pred.ndim == 2:
        raise InvalidArgument("regression predictions must be one number per row")
    true, pred = _numbers(true, "y_true"), _numbers(pred, "y_pred")
    keep = ~(np.isnan(true) | np.isnan(pred))
    true, pred = true[keep], pred[keep]
    if len(true) == 0:
        return {}
    errors = pred - true
    metrics: Metrics = {
        "mae": float(np.mean(np.abs(errors))),
        "rmse": float(math.sqrt(np.mean(errors**2))),
        "r2": None,
    }
    total = float(np.sum((true - true.mean()) ** 2))
    if len(true) >= 2 and total > 0:
        metrics["r2"] = 1.0 - float(np.sum(errors**2)) / total
    return metrics


def performance(task: str, y_true: Sequence[Any], y_pred: Sequence[Any]) -> Metrics:
    """The metrics of ``task`` (``"classification"`` or ``"regression"``); ``{}`` when no rows."""
    if task == CLASSIFICATION:
        return classification_metrics(y_true, y_pred)
    if task == REGRESSION:
        return regression_metrics(y_true, y_pred)
    raise InvalidArgument(f"unknown task {task!r}; use one of {list(TASKS)}")
