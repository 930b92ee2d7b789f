"""Metric history for a chart: at most ``limit`` points per series, spikes kept.

Points are cut into ``limit // 2`` equal runs (by position, in step order) and each
run keeps its lowest and highest point, in the order they occurred: a single NaN-free
spike of one point survives any zoom level, which averaging would flatten.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loopml.store import Metric

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


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN; charts show a gap


def in_range(points: Sequence[Metric], min_step: int | None, max_step: int | None) -> list[Metric]:
    """The points whose step lies in ``[min_step, max_step]`` (either end open)."""
    return [
        p
        for p in points
        if (min_step is None or p.step >= min_step) and (max_step is None or p.step <= max_step)
    ]


def downsample(points: Sequence[Metric], limit: int = MAX_POINTS) -> Series:
    """``points`` (ordered by step) thinned to ``limit`` with each bucket's min and max."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    total = len(points)
    if total <= limit:
        kept: Sequence[Metric] = points
    else:
        buckets = limit // 2
        chosen: list[Metric] = []
        for b in range(buckets):
            bucket = points[b * total // buckets : (b + 1) * total // buckets]
            finite = [(i, p) for i, p in enumerate(bucket) if math.isfinite(p.value)]
            if not finite:
                chosen.append(bucket[0])
                continue
            low = min(finite, key=lambda ip: ip[1].value)
            high = max(finite, key=lambda ip: ip[1].value)
            chosen.extend(p for _, p in sorted({low, high}, key=lambda ip: ip[0]))
        kept = chosen
    return Series(
        steps=[p.step for p in kept],
        values=[_finite(p.value) for p in kept],
        timestamps=[p.timestamp for p in kept],
        total=total,
        downsampled=total > limit,
    )
