"""Thinning a metric for a chart: bounded, ordered, and the extremes always kept."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from loopml.store import Metric
from loopml.ui._downsample import downsample, in_range

values = st.floats(allow_nan=True, allow_infinity=False, width=32)


@given(st.lists(values, max_size=3000), st.integers(min_value=2, max_value=500))
def test_thinned_series_is_bounded_ordered_and_keeps_extremes(
    points: list[float], limit: int
) -> None:
    history = [Metric("m", v, 1000 + i, i) for i, v in enumerate(points)]
    series = downsample(history, limit)
    assert len(series.steps) <= limit and series.total == len(points)
    assert series.steps == sorted(series.steps)
    assert series.downsampled == (len(points) > limit)
    finite = [v for v in points if math.isfinite(v)]
    if finite:
        kept = [v for v in series.values if v is not None]
        assert max(finite) in kept and min(finite) in kept
    assert all(v is None or math.isfinite(v) for v in series.values)


def test_a_short_series_is_returned_exactly() -> None:
    history = [Metric("m", float(i), 0, i) for i in range(10)]
    assert downsample(history, 2000).steps == list(range(10))
    assert [p.step for p in in_range(history, 3, 5)] == [3, 4, 5]
    assert [p.step for p in in_range(history, None, 1)] == [0, 1]
