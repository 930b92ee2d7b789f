"""Scoring one model on one frame: predictions, probabilities, latency, metrics per slice.

The candidate and the baseline go through the same function on the same rows,
so their numbers differ only because the models do.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.evaluation._metrics import classification_metrics, regression_metrics
from loopml.evaluation._slices import Slice
from loopml.models import LoadedModel

SINGLE_ROW_CALLS = 30
"""Single-row predictions timed for the per-request latency figures."""


@dataclass
class Scored:
    """One model's outputs on the evaluation rows and what they score."""

    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: list[Any] | None
    metrics: dict[str, float]
    latency: dict[str, float]


def model_inputs(model: LoadedModel, frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The columns the model takes: its signature's inputs when it has one, else all but target.

    Extra columns (a sensitive feature the model never saw, an id) are left
    out rather than refused, as callers of a model with a signature expect.
    """
    signature = model.signature
    if signature is not None and not signature.inputs.is_tensor and signature.inputs.has_names:
        wanted = [str(name) for name in signature.inputs.names()]
        missing = [name for name in wanted if name not in frame.columns]
        if missing:
            raise InvalidArgument(
                f"The data has no column {missing[0]!r} that the model's signature needs "
                f"(columns: {', '.join(map(str, frame.columns))})."
            )
        return frame[wanted]
    return frame.drop(columns=[target])


def _as_labels(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidArgument(
            f"The model returned predictions of shape {array.shape}: evaluation needs one "
            "prediction per row."
        )
    return array


def _classes(model: LoadedModel, y_true: np.ndarray, y_pred: np.ndarray, proba: Any) -> list[Any]:
    known = getattr(model.raw, "classes_", None)
    if known is not None and (proba is None or len(known) == np.shape(proba)[1]):
        return [v.item() if hasattr(v, "item") else v for v in np.asarray(known)]
    values = pd.unique(pd.Series(np.concatenate([y_true, y_pred]))).tolist()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _latency(model: LoadedModel, X: pd.DataFrame, batch_seconds: float) -> dict[str, float]:
    calls = min(SINGLE_ROW_CALLS, len(X))
    timings = []
    for i in range(calls):
        row = X.iloc[[i]]
        start = time.perf_counter()
        model.predict(row)
        timings.append((time.perf_counter() - start) * 1000.0)
    latency = {"batch_ms_per_row": batch_seconds * 1000.0 / max(len(X), 1)}
    if timings:
        latency["single_row_ms_p50"] = float(np.percentile(timings, 50))
        latency["single_row_ms_p95"] = float(np.percentile(timings, 95))
    return latency


def task_metrics(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None,
    classes: Sequence[Any] | None,
) -> dict[str, float]:
    """The task's metrics on these rows."""
    if task == "classification":
        return classification_metrics(y_true, y_pred, proba, list(classes or []))
    return regression_metrics(y_true, y_pred)


def score(
    model: LoadedModel, X: pd.DataFrame, y_true: np.ndarray, task: str, *, who: str = "model"
) -> Scored:
    """Predict once on all rows (timed), then a few single rows, and compute the metrics."""
    try:
        start = time.perf_counter()
        raw = model.predict(X)
        seconds = time.perf_counter() - start
        proba = None
        if task == "classification" and model.has_predict_proba:
            proba = np.asarray(model.predict_proba(X), dtype=float)
    except LoopmlError as exc:
        raise InvalidArgument(f"The {who} cannot predict on this data: {exc.message}") from exc
    y_pred = _as_labels(raw)
    if len(y_pred) != len(y_true):
        raise InvalidArgument(
            f"The {who} returned {len(y_pred)} predictions for {len(y_true)} rows."
        )
    classes = _classes(model, y_true, y_pred, proba) if task == "classification" else None
    if task == "regression":
        try:
            y_pred = y_pred.astype(float)
        except (TypeError, ValueError):
            raise InvalidArgument(
                f"The {who} returned non-numeric predictions; is the task 'classification'?"
            ) from None
    metrics = task_metrics(task, y_true, y_pred, proba, classes)
    return Scored(y_pred, proba, classes, metrics, _latency(model, X, seconds))


def slice_metrics(
    scored: Scored,
    task: str,
    y_true: np.ndarray,
    slices: Sequence[tuple[Slice, np.ndarray]],
) -> dict[str, dict[str, Any]]:
    """Metrics of every slice with rows; a slice matching none gets ``rows: 0`` and no metrics."""
    results: dict[str, dict[str, Any]] = {}
    for slice_, mask in slices:
        rows = int(mask.sum())
        entry: dict[str, Any] = {"rows": rows, "expression": slice_.expression}
        if slice_.column is not None:
            entry.update(column=slice_.column, value=slice_.value)
        if rows:
            proba = None if scored.proba is None else scored.proba[mask]
            entry["metrics"] = task_metrics(
                task, y_true[mask], scored.y_pred[mask], proba, scored.classes
            )
        else:
            entry["metrics"] = {}
        results[slice_.name] = entry
    return results
