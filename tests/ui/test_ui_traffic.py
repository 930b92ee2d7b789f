"""The deployment page's traffic figures: streamed segment by segment, bounded, exact counts,
percentiles within 1% of the exact ones."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from loopml.ui._traffic import BINS, latency_bins, percentile, traffic


def table(
    n: int, start: int, role: str = "primary", fail_every: int = 0, seed: int = 0
) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "request_id": [f"{role}-{start}-{i}" for i in range(n)],
            "role": [role] * n,
            "model_uri": ["models:/m/1"] * n,
            "model_version": ["1"] * n,
            "time_ms": pa.array(np.arange(start, start + n, dtype=np.int64)),
            "latency_ms": pa.array(rng.lognormal(2.0, 1.0, n)),
            "error": [("boom" if fail_every and i % fail_every == 0 else None) for i in range(n)],
        }
    )


def test_streamed_segments_give_exact_counts_and_close_percentiles() -> None:
    parts = [table(5_000, i * 5_000, fail_every=50, seed=i) for i in range(4)]
    parts.append(table(1_000, 0, role="shadow", seed=9))
    found = traffic(iter(parts), 0, 60_000)
    latencies = np.concatenate([p.column("latency_ms").to_numpy() for p in parts[:4]])
    assert (found.requests, found.errors) == (20_000, 400)
    assert found.error_rate == pytest.approx(0.02)
    for q, got in ((0.5, found.p50), (0.95, found.p95), (0.99, found.p99)):
        exact = float(np.quantile(latencies, q, method="inverted_cdf"))
        assert got == pytest.approx(exact, rel=0.015)
    shadow = next(r for r in found.routes if r.role == "shadow")
    assert (shadow.requests, shadow.share, shadow.p50) == (1_000, None, None)


def test_a_request_of_many_rows_counts_once_and_the_window_bounds_apply() -> None:
    rows = table(3, 10)
    twice = pa.concat_tables([rows, rows])  # each request's second row
    found = traffic([twice, table(5, 70_000)], 0, 60_000)  # the second table is after the window
    assert found.requests == 3 and found.per_minute == pytest.approx(3.0)


def test_latency_histogram_edges() -> None:
    bins = latency_bins(np.array([0.0, -1.0, np.nan, 1e20, 1.0]))
    assert bins[:4].tolist() == [0, 0, 0, BINS - 1]
    histogram = np.zeros(BINS, np.int64)
    assert percentile(histogram, 0.5) is None
    np.add.at(histogram, latency_bins(np.array([100.0])), 1)
    assert percentile(histogram, 0.99) == pytest.approx(100.0, rel=0.01)
