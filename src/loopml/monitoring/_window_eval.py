"""One monitor window of a prediction log: traffic, drift against a reference, quality.

A monitor runs unattended over whatever the log holds, so data problems (a
column the model stopped receiving, an all-missing input, a type change,
labels that cannot be compared) end up in the result's ``detail``, its status
and the per-column drift results; only caller mistakes (an unknown task, an
inverted window, a column the reference does not have) raise InvalidArgument.

The log stores a column whose values Arrow cannot hold as one type as JSON
text (probability lists next to numbers, segments that disagree), so the
prediction and label columns are decoded before use, with whole-column
operations except for the JSON lists and dicts themselves.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.monitoring._drift import OK, DriftResult, drift
from loopml.monitoring._performance import CLASSIFICATION, TASKS, THRESHOLD, performance

INPUT_PREFIX = "input."
PREDICTION = "prediction"
LABEL = "label"
ROLES = ("primary", "canary", "shadow")
REQUIRED = ("request_id", "time_ms", "role", "latency_ms", "error", PREDICTION)
EMPTY = "empty"
ERROR = "error"
_JSON_START = ("[", "{", '"')
_DRIFT_OPTIONS = frozenset(inspect.signature(drift).parameters) - {
    "reference",
    "current",
    "columns",
}


@dataclass(frozen=True)
class WindowResult:
    """What one window showed; ``status`` is ``"ok"``, ``"empty"`` or ``"error"``.

    ``metrics`` is flat (``rows``, ``error_rate``, ``latency_p95_ms``,
    ``drift_share``, ``drift_score.<col>``, ``accuracy``, ...) so that alert
    rules and charts address any number by one name. ``"error"`` means a part
    could not be evaluated (``detail`` says which and why); the metrics that
    could be computed are still there.
    """

    window_start: int
    window_end: int
    status: str
    detail: str
    metrics: dict[str, float | None]
    drift: DriftResult | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; a non-finite metric becomes ``None``."""
        return {
            "window_start": self.window_start,
            "window_end": self.window_end,
            "status": self.status,
            "detail": self.detail,
            "metrics": {
                name: None if value is None or not math.isfinite(value) else value
                for name, value in self.metrics.items()
            },
            "drift": None if self.drift is None else self.drift.to_dict(),
        }


def _check_names(value: Any, what: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidArgument(f"{what} must be a list of names, got {value!r}")
    return list(value)


def _check_call(
    predictions: Any,
    reference: Any,
    window_start: Any,
    window_end: Any,
    task: str | None,
    columns: Sequence[str] | None,
    roles: Sequence[str],
    drift_options: Mapping[str, Any] | None,
) -> tuple[list[str], list[str] | None, dict[str, Any]]:
    if not isinstance(predictions, pd.DataFrame):
        raise InvalidArgument(
            "predictions must be a pandas DataFrame from loopml.deployments.read_predictions, "
            f"got {type(predictions).__name__}"
        )
    if reference is not None and not isinstance(reference, pd.DataFrame):
        raise InvalidArgument(
            f"reference must be a pandas DataFrame or None, got {type(reference).__name__}"
        )
    for name, value in (("window_start", window_start), ("window_end", window_end)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise InvalidArgument(f"{name} must be epoch milliseconds (an integer), got {value!r}")
    if window_end <= window_start:
        raise InvalidArgument(
            f"window_end ({window_end}) must be after window_start ({window_start})"
        )
    if task is not None and task not in TASKS:
        raise InvalidArgument(f"unknown task {task!r}; use one of {list(TASKS)} or None")
    role_list = _check_names(roles, "roles")
    unknown_roles = [r for r in role_list if r not in ROLES]
    if not role_list or unknown_roles:
        raise InvalidArgument(f"roles must name at least one of {list(ROLES)}, got {role_list!r}")
    column_list = None if columns is None else _check_names(columns, "columns")
    if column_list is not None and reference is not None:
        absent = [c for c in column_list if c not in reference.columns]
        if absent:
            raise InvalidArgument(
                f"columns {absent} are not in the reference data; it has "
                f"{[str(c) for c in reference.columns]}"
            )
    options = dict(drift_options or {})
    unknown = sorted(set(options) - _DRIFT_OPTIONS)
    if unknown:
        raise InvalidArgument(
            f"drift_options has unknown keys {unknown}; use {sorted(_DRIFT_OPTIONS)} "
            "(choose the columns with the columns argument)"
        )
    if len(predictions.columns):  # a log read of nothing may come back without columns
        missing = [c for c in REQUIRED if c not in predictions.columns]
        if missing:
            raise InvalidArgument(
                f"predictions has no column(s) {missing}; pass the frame that "
                "loopml.deployments.read_predictions returns"
            )
    return role_list, column_list, options


def _is_container(value: Any) -> bool:
    return isinstance(value, list | tuple | dict | np.ndarray)


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def decoded(series: pd.Series) -> pd.Series:
    """``series`` with the log's text forms turned back into values.

    All-numeric text (what a number becomes when its segment was stored as
    text) becomes numbers, ``"true"``/``"false"`` booleans, and JSON lists,
    dicts and quoted strings their values. Anything else is returned as it is.
    """
    if not _is_text(series):
        return series
    present = series.dropna()
    if present.empty or pd.api.types.infer_dtype(present, skipna=True) != "string":
        return series
    json_like = present.str.startswith(_JSON_START).to_numpy(dtype=bool)
    if not json_like.any():
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.notna().all():
            return pd.to_numeric(series, errors="coerce")
        if present.isin(["true", "false"]).all():
            return series.map({"true": True, "false": False}).astype(object)
        return series
    values = series.to_numpy(dtype=object, copy=True)
    positions = np.flatnonzero(series.notna().to_numpy())[json_like]
    texts = values[positions].tolist()
    try:  # one parse for the whole column when every text is valid JSON
        values[positions] = _object_array(orjson.loads("[" + ",".join(texts) + "]"))
    except orjson.JSONDecodeError:
        values[positions] = _object_array([_loads_or_keep(text) for text in texts])
    return pd.Series(values, index=series.index, name=series.name, dtype=object)


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items  # an object array of lists, not a 2-D array
    return out


def _loads_or_keep(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # text that only looks like JSON stays text
        return text


def _numeric_text(series: pd.Series) -> pd.Series:
    """Text that is all numbers as numbers, else ``series`` (drift reports the type change)."""
    if not _is_text(series):
        return series
    present = series.dropna()
    if present.empty or pd.api.types.infer_dtype(present, skipna=True) != "string":
        return series
    numbers = pd.to_numeric(series, errors="coerce")
    return numbers if numbers.notna().sum() == len(present) else series


def _operational(window: pd.DataFrame) -> dict[str, float | None]:
    rows = len(window)
    per_request = window.drop_duplicates("request_id")
    latency = per_request["latency_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    latency = latency[np.isfinite(latency)]
    p50, p95, p99 = (
        (float(v) for v in np.percentile(latency, [50, 95, 99]))
        if len(latency)
        else (None, None, None)
    )
    errors = int(window["error"].notna().sum())
    labeled = int(window[LABEL].notna().sum()) if LABEL in window.columns else 0
    return {
        "rows": float(rows),
        "requests": float(len(per_request)),
        "errors": float(errors),
        "error_rate": errors / rows if rows else None,
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
        "latency_p99_ms": p99,
        "labeled_rows": float(labeled),
    }


def _prediction_drift_column(
    window: pd.DataFrame, reference: pd.DataFrame, target: str, task: str | None
) -> tuple[pd.Series | None, pd.Series | None, str | None]:
    """The reference target and the window's predictions as a pair of drift columns."""
    if PREDICTION in reference.columns:
        return None, None, "prediction drift skipped: the reference has a 'prediction' column"
    predicted = decoded(window[PREDICTION])
    present = predicted.dropna()
    if not present.empty and _is_container(present.iloc[0]):
        return None, None, "prediction drift skipped: predictions are class probabilities"
    expected = reference[target]
    if (
        task == CLASSIFICATION
        and pd.api.types.is_float_dtype(predicted.dtype)
        and bool(present.between(0, 1).all())
        and bool(expected.dropna().isin([0, 1]).all())
    ):  # binary probabilities against 0/1 labels: compare the labels they stand for
        predicted = (predicted >= THRESHOLD).astype(expected.dtype).where(predicted.notna())
    return expected, predicted, None


def _drift(
    window: pd.DataFrame,
    reference: pd.DataFrame,
    columns: list[str] | None,
    target: str | None,
    task: str | None,
    options: dict[str, Any],
    notes: list[str],
) -> DriftResult | None:
    inputs = {
        str(c)[len(INPUT_PREFIX) :]: c for c in window.columns if str(c).startswith(INPUT_PREFIX)
    }
    if columns is None:
        candidates = [c for c in reference.columns if c != target]
        absent = [str(c) for c in candidates if c not in inputs]
        names = [c for c in candidates if c in inputs]
        if absent:
            notes.append(f"reference columns missing from the window's inputs: {absent}")
    else:
        names = list(columns)
    current = pd.DataFrame(index=window.index)
    for name in names:
        if name in inputs:
            values = window[inputs[name]]
            if pd.api.types.is_numeric_dtype(reference[name].dtype):
                values = _numeric_text(values)
            current[name] = values
    ref_frame = reference
    if target is not None and target in reference.columns:
        expected, predicted, why = _prediction_drift_column(window, reference, target, task)
        if why is not None:
            notes.append(why)
        else:
            ref_frame = reference.assign(**{PREDICTION: expected})
            current[PREDICTION] = predicted
            names.append(PREDICTION)
    elif target is not None:
        notes.append(f"prediction drift skipped: target {target!r} is not in the reference")
    if not names:
        notes.append("drift skipped: no reference column is among the window's inputs")
        return None
    return drift(ref_frame, current, columns=names, **options)


def _drift_metrics(result: DriftResult) -> dict[str, float | None]:
    metrics: dict[str, float | None] = {
        "dataset_drift": 1.0 if result.dataset_drift else 0.0,
        "drift_share": result.share,
        "drifted_columns": float(result.number_of_drifted_columns),
    }
    for column in result.columns:
        tested = column.status == OK
        metrics[f"drift.{column.column}"] = (1.0 if column.drifted else 0.0) if tested else None
        metrics[f"drift_score.{column.column}"] = column.score if tested else None
    return metrics


def evaluate_window(
    predictions: pd.DataFrame,
    reference: pd.DataFrame | None,
    *,
    window_start: int,
    window_end: int,
    task: str | None = None,
    target: str | None = None,
    columns: Sequence[str] | None = None,
    roles: Sequence[str] = ("primary", "canary"),
    drift_options: Mapping[str, Any] | None = None,
) -> WindowResult:
    """Evaluate the rows with ``window_start <= time_ms < window_end`` answered by ``roles``.

    Shadow rows are left out by default: users never saw them. Metrics always
    hold the traffic (rows, requests, errors, error_rate, latency percentiles
    per request, labeled_rows); with a ``reference``, drift of each input
    column (``columns``, or every reference column the window has as an input,
    except ``target``) and, when ``target`` is in the reference, of the
    predictions against it; with a ``task`` and labels, the quality metrics of
    ``loopml.monitoring`` performance. ``drift_options`` go to ``drift``.
    """
    role_list, column_list, options = _check_call(
        predictions, reference, window_start, window_end, task, columns, roles, drift_options
    )
    start, end = int(window_start), int(window_end)
    if len(predictions.columns) == 0:
        window = predictions
    else:
        times = predictions["time_ms"].to_numpy()
        mask = (times >= start) & (times < end) & predictions["role"].isin(role_list).to_numpy()
        window = predictions[mask]
    if len(window) == 0:
        metrics = {
            "rows": 0.0,
            "requests": 0.0,
            "errors": 0.0,
            "error_rate": None,
            "latency_p50_ms": None,
            "latency_p95_ms": None,
            "latency_p99_ms": None,
            "labeled_rows": 0.0,
        }
        detail = f"no rows from roles {role_list} in the window"
        return WindowResult(start, end, EMPTY, detail, metrics, None)

    metrics = _operational(window)
    notes: list[str] = []
    status = OK
    drift_result = None
    if reference is not None:
        drift_result = _drift(window, reference, column_list, target, task, options, notes)
        if drift_result is not None:
            metrics.update(_drift_metrics(drift_result))
            untested = [c.column for c in drift_result.columns if c.status != OK]
            if untested:
                notes.append(f"drift not tested for {untested} (see drift)")
    if task is not None:
        if metrics["labeled_rows"]:
            labeled = window[window[LABEL].notna()]
            try:
                metrics.update(
                    performance(task, decoded(labeled[LABEL]), decoded(labeled[PREDICTION]))
                )
            except InvalidArgument as exc:
                status = ERROR
                notes.append(f"performance not evaluated: {exc.message}")
        else:
            notes.append("performance not evaluated: no labelled rows yet")
    summary = f"{len(window)} rows from {int(metrics['requests'] or 0)} requests"
    return WindowResult(start, end, status, "; ".join([summary, *notes]), metrics, drift_result)
