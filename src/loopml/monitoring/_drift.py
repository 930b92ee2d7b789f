"""Column-by-column drift between a reference and a current window.

Each column gets its own result, including when it cannot be tested (missing
from the current data, all values missing, a type change): a monitor keeps
running on imperfect windows, so data problems are reported per column and only
caller mistakes (an unknown test name, a column not in the reference) raise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.monitoring._selection import TEXT, default_stattest, infer_column_type
from loopml.monitoring._stattests import CATEGORICAL, NUMERICAL, STATTESTS, StatTest

OK = "ok"
ERROR = "error"


@dataclass(frozen=True)
class ColumnOptions:
    """Per-column override; ``None`` fields fall back to the global setting."""

    method: str | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class ColumnDrift:
    """The outcome for one column; ``status`` is ``"error"`` when it could not be tested."""

    column: str
    column_type: str
    method: str | None
    score: float | None
    threshold: float | None
    drifted: bool
    status: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (a non-finite score becomes ``None``)."""
        data = asdict(self)
        if self.score is not None and not math.isfinite(self.score):
            data["score"] = None
        return data


@dataclass(frozen=True)
class DriftResult:
    """Per-column results and the dataset verdict.

    ``share`` is the drifted share of the columns that could be tested;
    ``dataset_drift`` is ``share >= drift_share`` (and false if none could).
    """

    columns: tuple[ColumnDrift, ...]
    dataset_drift: bool
    share: float
    drift_share: float
    number_of_tested_columns: int
    number_of_drifted_columns: int

    def __getitem__(self, name: str) -> ColumnDrift:
        for column in self.columns:
            if column.column == name:
                return column
        raise KeyError(name)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the columns whose test flagged drift."""
        return [c.column for c in self.columns if c.drifted]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for reports, the metadata store and alerts."""
        return {
            "dataset_drift": self.dataset_drift,
            "share": self.share,
            "drift_share": self.drift_share,
            "number_of_tested_columns": self.number_of_tested_columns,
            "number_of_drifted_columns": self.number_of_drifted_columns,
            "columns": {c.column: c.to_dict() for c in self.columns},
        }


def _as_frame(data: Any, side: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas") and hasattr(data, "column_names"):  # a pyarrow Table
        frame = data.to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise InvalidArgument(
        f"{side} must be a pandas DataFrame or a pyarrow Table, got {type(data).__name__}"
    )


def _stattest(name: str, where: str) -> StatTest:
    try:
        return STATTESTS[name]
    except KeyError:
        raise InvalidArgument(
            f"unknown drift method {name!r} ({where}); choose one of {sorted(STATTESTS)}"
        ) from None


def _applicable(column_type: str) -> list[str]:
    return sorted(n for n, t in STATTESTS.items() if column_type in t.column_types)


def _check_threshold(value: float | None, where: str) -> None:
    if value is not None and (not isinstance(value, int | float) or not value >= 0):
        raise InvalidArgument(f"threshold ({where}) must be a number >= 0, got {value!r}")


def _column_options(
    per_column: Mapping[str, ColumnOptions | Mapping[str, Any] | str] | None,
) -> dict[str, ColumnOptions]:
    options: dict[str, ColumnOptions] = {}
    for name, value in (per_column or {}).items():
        if isinstance(value, str):
            value = ColumnOptions(method=value)
        elif isinstance(value, Mapping):
            unknown = set(value) - {"method", "threshold"}
            if unknown:
                raise InvalidArgument(
                    f"per_column[{name!r}] has unknown keys {sorted(unknown)}; "
                    "use 'method' and/or 'threshold'"
                )
            value = ColumnOptions(method=value.get("method"), threshold=value.get("threshold"))
        elif not isinstance(value, ColumnOptions):
            raise InvalidArgument(
                f"per_column[{name!r}] must be a method name, a dict or ColumnOptions"
            )
        if value.method is not None:
            _stattest(value.method, f"per_column[{name!r}]")
        _check_threshold(value.threshold, f"per_column[{name!r}]")
        options[name] = value
    return options


def _clean(series: pd.Series, column_type: str) -> pd.Series:
    """Drop missing and infinite values, as Evidently does before testing."""
    if column_type == NUMERICAL:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.Series(values[np.isfinite(values)])
    return series.dropna().reset_index(drop=True)


def _error(column: str, column_type: str, detail: str) -> ColumnDrift:
    return ColumnDrift(column, column_type, None, None, None, False, ERROR, detail)


def _one_column(
    name: str,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    column_type: str,
    options: ColumnOptions,
    method: str | None,
    threshold: float | None,
) -> ColumnDrift:
    if name not in current.columns:
        return _error(name, column_type, "column is missing from the current data")
    cur_raw = current[name]
    if (
        column_type == NUMERICAL
        and not pd.api.types.is_numeric_dtype(cur_raw.dtype)
        and cur_raw.notna().any()  # an all-missing window is often typed object
    ):
        return _error(
            name,
            column_type,
            f"type changed: numerical in the reference, {cur_raw.dtype} in the current "
            "data; fix the producer or declare the column categorical",
        )
    if len(current) == 0:
        return _error(name, column_type, "the current data has no rows")
    ref = _clean(reference[name], column_type)
    cur = _clean(current[name], column_type)
    if ref.empty:
        return _error(name, column_type, "no non-missing values in the reference data")
    if cur.empty:
        return _error(name, column_type, "no non-missing values in the current data")

    if options.method is not None:
        test = STATTESTS[options.method]
        if column_type not in test.column_types:
            raise InvalidArgument(
                f"per_column[{name!r}]: {test.name!r} does not apply to {column_type} columns; "
                f"use one of {_applicable(column_type)}"
            )
    elif method is not None:
        test = STATTESTS[method]
        if column_type not in test.column_types:
            return _error(
                name,
                column_type,
                f"{test.name!r} does not apply to {column_type} columns; "
                "set another method for this column in per_column",
            )
    else:
        test = default_stattest(ref, cur, column_type)

    if options.threshold is not None:
        actual_threshold = float(options.threshold)
    elif threshold is not None:
        actual_threshold = float(threshold)
    else:
        actual_threshold = test.default_threshold

    try:
        score = test.func(ref, cur, column_type)
    except (ValueError, TypeError, ArithmeticError) as exc:  # odd values, e.g. unorderable
        return _error(name, column_type, f"{test.name} failed: {exc}")
    drifted = test.is_drift(score, actual_threshold)
    dropped = (len(reference) - len(ref), len(current) - len(cur))
    detail = (
        f"{test.display_name} = {score:.4g} ({'drift' if drifted else 'no drift'} at "
        f"{actual_threshold:g}); {len(ref)} reference and {len(cur)} current values"
        + (f", {dropped[0]} and {dropped[1]} missing dropped" if any(dropped) else "")
    )
    return ColumnDrift(name, column_type, test.name, score, actual_threshold, drifted, OK, detail)


def drift(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    numerical: Sequence[str] | None = None,
    method: str | None = None,
    threshold: float | None = None,
    per_column: Mapping[str, ColumnOptions | Mapping[str, Any] | str] | None = None,
    drift_share: float = 0.5,
) -> DriftResult:
    """Test every column of ``reference`` against ``current`` for drift.

    ``method``/``threshold`` replace the automatic choice for every column;
    ``per_column`` overrides one column (``{"age": {"method": "psi",
    "threshold": 0.2}}`` or ``{"age": "psi"}``) without touching the global
    setting of the others. Thresholds fall back per column, then global, then
    the test's default (0.05 for p-values, 0.1 for distances). Without
    ``columns``, every reference column with a drift test is used (datetimes
    are left out); column types are inferred as in ``_selection``.
    """
    ref_frame = _as_frame(reference, "reference")
    cur_frame = _as_frame(current, "current")
    if method is not None:
        _stattest(method, "method")
    _check_threshold(threshold, "threshold")
    if not isinstance(drift_share, int | float) or not 0 <= drift_share <= 1:
        raise InvalidArgument(f"drift_share must be between 0 and 1, got {drift_share!r}")
    options = _column_options(per_column)
    declared_cat, declared_num = set(categorical or ()), set(numerical or ())
    both = declared_cat & declared_num
    if both:
        raise InvalidArgument(f"columns {sorted(both)} are declared both categorical and numerical")
    wanted = set(columns or ()) | declared_cat | declared_num | set(options)
    unknown = [n for n in wanted if n not in ref_frame.columns]
    if unknown:
        raise InvalidArgument(
            f"columns {sorted(map(str, unknown))} are not in the reference data; "
            f"it has {[str(c) for c in ref_frame.columns]}"
        )

    types: dict[str, str | None] = {}
    for name in ref_frame.columns if columns is None else columns:
        if name in declared_cat:
            types[name] = CATEGORICAL
        elif name in declared_num:
            if not pd.api.types.is_numeric_dtype(ref_frame[name].dtype):
                raise InvalidArgument(
                    f"column {name!r} is declared numerical but holds {ref_frame[name].dtype}"
                )
            types[name] = NUMERICAL
        else:
            types[name] = infer_column_type(ref_frame[name])
    if columns is None:  # like Evidently: datetimes and other untestable columns are left out
        types = {n: t for n, t in types.items() if t is not None or n in options}

    results = []
    for name, column_type in types.items():
        if column_type is None:
            results.append(
                _error(
                    name,
                    "unsupported",
                    f"{ref_frame[name].dtype} columns have no drift test; declare the column "
                    "categorical or numerical, or leave it out",
                )
            )
            continue
        if column_type == TEXT:
            results.append(
                _error(
                    name,
                    TEXT,
                    "looks like free text (more than half of the reference values are "
                    "distinct), which has no drift test; declare it categorical to compare "
                    "its values as categories, or leave it out",
                )
            )
            continue
        results.append(
            _one_column(
                name,
                ref_frame,
                cur_frame,
                column_type,
                options.get(name, ColumnOptions()),
                method,
                threshold,
            )
        )

    tested = [r for r in results if r.status == OK]
    n_drifted = sum(r.drifted for r in tested)
    share = n_drifted / len(tested) if tested else 0.0
    return DriftResult(
        columns=tuple(results),
        dataset_drift=bool(tested) and share >= drift_share,
        share=share,
        drift_share=float(drift_share),
        number_of_tested_columns=len(tested),
        number_of_drifted_columns=n_drifted,
    )
