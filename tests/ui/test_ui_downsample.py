"""Thinning a metric for a chart: bounded, ordered, and the extremes always kept."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from loopml.store import PointColumns
from loopml.ui._downsample import downsample, in_range

values = st.floats(allow_nan=True, allow_infinity=False, width=32)


@given(st.lists(values, max_size=3000), st.integers(min_value=2, max_value=500))
def test_thinned_series_is_bounded_ordered_and_keeps_extremes(
    points: list[float], limit: int
) -> None:
    history = _columns(points)
    series = downsample(history, limit)
    assert len(series.steps) <= limit and series.total == len(points)
    assert series.steps == sorted(series.steps)
    assert series.downsampled == (len(points) > limit)
    finite = [v for v in points if math.isfinite(v)]
    if finite:
        kept = [v for v in series.values if v is not None]
        assert max(finite) in kept and min(finite) in kept
    assert all(v is None or math.isfinite(v) for v in series.values)


def _columns(values: list[float]) -> PointColumns:
    steps = list(range(len(values)))
    return PointColumns.from_lists(steps, [1000 + i for i in steps], values)


def test_a_short_series_is_returned_exactly() -> None:
    history = _columns([float(i) for i in range(10)])
    assert downsample(history, 2000).steps == list(range(10))
    assert in_range(history, 3, 5).steps.tolist() == [3, 4, 5]
    assert in_range(history, None, 1).steps.tolist() == [0, 1]
    assert in_range(history, 7, 2).steps.tolist() == []  # an empty range, not an error


def test_non_finite_values_become_gaps() -> None:
    series = downsample(_columns([1.0, math.nan, math.inf, -math.inf, 2.0]), 2000)
    assert series.values == [1.0, None, None, None, 2.0]
