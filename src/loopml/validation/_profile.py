"""Profiles: what a dataset looks like, column by column, in a JSON-able record.

Every statistic is computed with vectorised NumPy/pandas (never a Python loop
over rows), so profiling a million rows costs a few passes over each column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopml.core.errors import NotFound
from loopml.validation._frame import Kind, column_kind, load_frame, numeric_values, plain

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
TOP_VALUES = 10
MIN_BINS, MAX_BINS = 10, 20


@dataclass(frozen=True)
class Histogram:
    """``counts[i]`` values fall in ``[edges[i], edges[i + 1])`` (the last bin is closed)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class ColumnProfile:
    """One column. ``count`` is the number of non-missing values (as pandas' describe).

    Numbers fill min/max/mean/std/quantiles/histogram; categories and booleans
    fill cardinality/top; datetimes fill min/max (ISO text) and cardinality.
    """

    name: str
    kind: Kind
    count: int
    missing: int
    missing_share: float
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float | None] | None = None
    histogram: Histogram | None = None
    cardinality: int | None = None
    top: tuple[tuple[Any, int], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "missing_share": self.missing_share,
            "min": plain(self.min),
            "max": plain(self.max),
            "mean": plain(self.mean),
            "std": plain(self.std),
            "quantiles": self.quantiles,
            "histogram": (
                {"edges": list(self.histogram.edges), "counts": list(self.histogram.counts)}
                if self.histogram
                else None
            ),
            "cardinality": self.cardinality,
            "top": [{"value": v, "count": c} for v, c in self.top] if self.top else None,
        }


@dataclass(frozen=True)
class Profile:
    """A dataset's profile: its row count and one ``ColumnProfile`` per column, in order."""

    rows: int
    columns: tuple[ColumnProfile, ...]

    def __getitem__(self, name: str) -> ColumnProfile:
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFound(f"No column {name!r} in this profile: it has {self.names()}.")

    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": [column.to_dict() for column in self.columns]}


def profile(data: Any) -> Profile:
    """Profile a DataFrame, or a Parquet/CSV file or Parquet folder (read with pyarrow)."""
    frame = load_frame(data)
    return Profile(
        rows=len(frame),
        columns=tuple(profile_column(str(name), frame[name]) for name in frame.columns),
    )


def profile_column(name: str, series: pd.Series) -> ColumnProfile:
    """The profile of one column, by its kind (see ``column_kind``)."""
    kind = column_kind(series)
    rows = len(series)
    missing = int(series.isna().sum())
    base: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "count": rows - missing,
        "missing": missing,
        "missing_share": missing / rows if rows else 0.0,
    }
    if kind == "numeric":
        return ColumnProfile(**base, **_numeric(numeric_values(series)))
    if kind == "datetime":
        present = series.dropna()
        return ColumnProfile(
            **base,
            min=present.min() if len(present) else None,
            max=present.max() if len(present) else None,
            cardinality=int(present.nunique()),
        )
    return ColumnProfile(**base, **_categorical(series))


def _numeric(values: np.ndarray) -> dict[str, Any]:
    """Min/max over every value; moments, quantiles and bins over the finite ones.

    An infinity would turn the mean, std and every bin edge into inf or NaN, so
    it shows in min/max (null in JSON) and nowhere else.
    """
    import numpy as np

    if values.size == 0:
        return {}
    stats: dict[str, Any] = {"min": float(values.min()), "max": float(values.max())}
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return stats
    named = zip(QUANTILES, np.quantile(finite, QUANTILES), strict=True)
    return {
        **stats,
        "mean": float(finite.mean()),
        "std": float(finite.std(ddof=1)) if finite.size > 1 else None,
        "quantiles": {f"p{round(q * 100)}": float(v) for q, v in named},
        "histogram": _histogram(finite),
    }


def _histogram(values: np.ndarray) -> Histogram:
    import numpy as np

    # Sturges' rule, held between 10 and 20 bins so profiles stay small and comparable
    bins = int(np.clip(np.ceil(np.log2(values.size)) + 1, MIN_BINS, MAX_BINS))
    counts, edges = np.histogram(values, bins=bins)
    return Histogram(edges=tuple(float(e) for e in edges), counts=tuple(int(c) for c in counts))


def _categorical(series: pd.Series) -> dict[str, Any]:
    counts = series.value_counts(dropna=True)
    return {
        "cardinality": int(counts.size),
        "top": tuple(
            (plain(value), int(count)) for value, count in counts.head(TOP_VALUES).items()
        ),
    }
