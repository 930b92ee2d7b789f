"""Metric history for a chart: at most ``limit`` points per series, spikes kept.

Points are cut into ``limit // 2`` equal runs (by position, in step order) and each
run keeps its lowest and highest point, in the order they occurred: a single NaN-free
spike of one point survives any zoom level, which averaging would flatten. The work
is done on the store's arrays (``PointColumns``), never on one object per point: a
100,000-point history thins in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopml.store import PointColumns

MAX_POINTS = 2000


@dataclass(frozen=True, slots=True)
class Series:
    """Columns of one metric's points, as a chart takes them; ``total`` before thinning."""

    steps: list[int]
    values: list[float | None]
    timestamps: list[int]
    total: int
    downsampled: bool

    def to_json(self) -> dict[str, object]:
        return {
            "steps": self.steps,
            "values": self.values,
            "timestamps": self.timestamps,
            "total": self.total,
            "downsampled": self.downsampled,
        }


def in_range(points: PointColumns, min_step: int | None, max_step: int | None) -> PointColumns:
    """The points whose step lies in ``[min_step, max_step]`` (either end open).

    The steps are sorted, so the range is two binary searches.
    """
    start = 0 if min_step is None else int(np.searchsorted(points.steps, min_step, "left"))
    end = len(points.steps)
    if max_step is not None:
        end = int(np.searchsorted(points.steps, max_step, "right"))
    end = max(start, end)
    return PointColumns(
        points.steps[start:end], points.timestamps[start:end], points.values[start:end]
    )


def _extremes(values: np.ndarray, buckets: int) -> np.ndarray:
    """Positions to keep: per bucket its lowest and highest finite point, in order."""
    total = len(values)
    bounds = np.arange(buckets + 1, dtype=np.int64) * total // buckets
    finite = np.isfinite(values)
    low_ranked = np.where(finite, values, np.inf)
    high_ranked = np.where(finite, values, -np.inf)
    chosen: list[int] = []
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if not finite[start:end].any():
            chosen.append(start)  # an all-NaN bucket: one gap marker
            continue
        low = start + int(np.argmin(low_ranked[start:end]))
        high = start + int(np.argmax(high_ranked[start:end]))
        chosen.extend(sorted({low, high}))
    return np.asarray(chosen, dtype=np.int64)


def downsample(points: PointColumns, limit: int = MAX_POINTS) -> Series:
    """``points`` (ordered by step) thinned to ``limit`` with each bucket's min and max."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    total = len(points.steps)
    steps, times, values = points.steps, points.timestamps, points.values
    if total > limit:
        kept = _extremes(values, limit // 2)
        steps, times, values = steps[kept], times[kept], values[kept]
    # JSON has no NaN or infinity: charts show a gap.
    shown = np.where(np.isfinite(values), values, np.nan).tolist()
    return Series(
        steps=steps.tolist(),
        values=[None if v != v else v for v in shown],
        timestamps=times.tolist(),
        total=total,
        downsampled=total > limit,
    )
