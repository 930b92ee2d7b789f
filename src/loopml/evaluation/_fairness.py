"""Fairness of one prediction set across the groups of sensitive features, with fairlearn.

Each sensitive column is reported on its own (not intersected with the others):
metrics per group from a fairlearn ``MetricFrame`` and, for a binary
classifier, the demographic parity and equalized odds differences between
groups. Situations where a number would mislead (one group only, multiclass
labels, a group without positives) come back as notices next to the numbers.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    root_mean_squared_error,
)

from loopml.core.errors import InvalidArgument

MISSING_GROUP = "<missing>"
TASKS = ("classification", "regression")


def fairness_report(
    y_true: Any, y_pred: Any, sensitive: pd.DataFrame, task: str, positive: Any | None
) -> dict[str, dict[str, Any]]:
    """Per sensitive column: metrics per group, the between-group differences and notices.

    Shape: ``{feature: {"groups": {group: {"count": n, <metric>: value}}, <differences>,
    "notices": [...]}}``; missing values form the group ``"<missing>"`` and group
    keys are strings. Binary classification (``positive`` given) reports accuracy,
    precision, recall, F1 and selection rate per group, and
    ``demographic_parity_difference`` and ``equalized_odds_difference`` (largest
    between-group gaps); other classification reports accuracy only, the two
    differences nan and a notice. Regression reports MAE and RMSE per group and
    ``max_mae_difference``. A column with one group has differences 0.0.
    """
    if task not in TASKS:
        raise InvalidArgument(f"Unknown task {task!r}: use 'classification' or 'regression'.")
    if not isinstance(sensitive, pd.DataFrame):
        raise InvalidArgument("sensitive features must be a DataFrame with one column per feature")
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    if not len(truth) == len(predicted) == len(sensitive):
        raise InvalidArgument(
            f"length mismatch: {len(truth)} true values, {len(predicted)} predictions, "
            f"{len(sensitive)} rows of sensitive features"
        )
    report: dict[str, dict[str, Any]] = {}
    for column in sensitive.columns:
        groups = _groups(sensitive[column])
        if task == "regression":
            report[str(column)] = _regression(truth, predicted, groups)
        elif positive is None:
            report[str(column)] = _multiclass(truth, predicted, groups)
        else:
            report[str(column)] = _binary(truth == positive, predicted == positive, groups)
    return report


def _binary(truth: np.ndarray, predicted: np.ndarray, groups: pd.Series) -> dict[str, Any]:
    # 0/1 integers: fairlearn's rates and sklearn's scores then agree on the positive label.
    truth, predicted = truth.astype(int), predicted.astype(int)
    # zero_division=nan: a group without predicted (or true) positives has no precision (recall).
    metrics = {
        "count": count,
        "accuracy": accuracy_score,
        "precision": functools.partial(precision_score, zero_division=np.nan),
        "recall": functools.partial(recall_score, zero_division=np.nan),
        "f1": functools.partial(f1_score, zero_division=np.nan),
        "selection_rate": selection_rate,
    }
    entry = _by_group(metrics, truth, predicted, groups)
    notices = entry["notices"]
    if len(entry["groups"]) < 2:
        entry["demographic_parity_difference"] = 0.0
        entry["equalized_odds_difference"] = 0.0
        return entry
    entry["demographic_parity_difference"] = _float(
        demographic_parity_difference(truth, predicted, sensitive_features=groups)
    )
    entry["equalized_odds_difference"] = _float(
        equalized_odds_difference(truth, predicted, sensitive_features=groups)
    )
    for group, labels in pd.Series(truth).groupby(groups.to_numpy(), sort=True):
        if labels.all() or not labels.any():
            kind = "negative" if labels.all() else "positive"
            notices.append(
                f"group {group!r} has no {kind} true label, so its "
                f"{'false' if kind == 'negative' else 'true'} positive rate counts as 0 "
                "in the equalized odds difference"
            )
    return entry


def _multiclass(truth: np.ndarray, predicted: np.ndarray, groups: pd.Series) -> dict[str, Any]:
    entry = _by_group({"count": count, "accuracy": accuracy_score}, truth, predicted, groups)
    entry["demographic_parity_difference"] = float("nan")
    entry["equalized_odds_difference"] = float("nan")
    entry["notices"].append(
        "no positive class (not a binary classifier): demographic parity and equalized odds "
        "are not computed, only accuracy per group"
    )
    return entry


def _regression(truth: np.ndarray, predicted: np.ndarray, groups: pd.Series) -> dict[str, Any]:
    try:
        truth, predicted = truth.astype(float), predicted.astype(float)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"regression fairness needs numeric values: {exc}") from None
    metrics = {"count": count, "mae": mean_absolute_error, "rmse": root_mean_squared_error}
    entry = _by_group(metrics, truth, predicted, groups)
    maes = [g["mae"] for g in entry["groups"].values() if np.isfinite(g["mae"])]
    entry["max_mae_difference"] = float(max(maes) - min(maes)) if maes else float("nan")
    return entry


def _by_group(
    metrics: dict[str, Any], truth: np.ndarray, predicted: np.ndarray, groups: pd.Series
) -> dict[str, Any]:
    frame = MetricFrame(metrics=metrics, y_true=truth, y_pred=predicted, sensitive_features=groups)
    by_group = frame.by_group
    table: dict[str, dict[str, float]] = {}
    for group, row in by_group.iterrows():
        values = {name: _float(row[name]) for name in metrics if name != "count"}
        table[str(group)] = {"count": int(row["count"]), **values}
    notices = [] if len(table) > 1 else [f"only one group ({', '.join(table)}); nothing to compare"]
    return {"groups": table, "notices": notices}


def _groups(column: pd.Series) -> pd.Series:
    """The column as group names: strings, with missing values in their own group."""
    names = column.astype(object).where(column.notna(), MISSING_GROUP).map(str)
    return pd.Series(names.to_numpy(dtype=object), name=str(column.name))


def _float(value: Any) -> float:
    number = float(value)
    return number if np.isfinite(number) else float("nan")
