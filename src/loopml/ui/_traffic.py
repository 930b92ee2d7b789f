"""Request rate, latency percentiles and error rate of a prediction-log window, bounded.

The prediction log is Parquet segments in the object store (the metadata store
only indexes their time spans), so there is no SQL table to aggregate. The
serving process's Prometheus histogram is not an option either: it lives in
another process, counts since that process started, and knows nothing of
windows. So the window's segments are streamed, one at a time, reading only
the seven request-level columns (never inputs or predictions), and folded into
fixed-size accumulators:

- counts and errors per (role, model URI, version) and per chart bucket: exact;
- latencies into a log-scale histogram (bins 1% wide from 1 µs to ~28 hours):
  any percentile is within 1% of the exact value, memory is a few thousand
  counters whatever the traffic, and histograms of segments simply add up.

Memory is bounded by one segment (at most 64 MiB of Parquet, projected to the
seven columns) plus the accumulators; no window is held whole, and no row
becomes a Python object. A request counts once (its rows share request id and
role; a request is written whole into one segment); a shadow's mirror of a
request counts for the shadow only and is not an answered request.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

MINUTE = 60_000
BUCKETS = 60  # points per traffic chart
ANSWERING = ("primary", "canary")  # shadow mirrors requests; it never answers them
ROLES = ("primary", "canary", "shadow")
COLUMNS = ("request_id", "role", "model_uri", "model_version", "time_ms", "latency_ms", "error")

# Latency histogram: bin i holds [LOW * GROWTH**i, LOW * GROWTH**(i+1)) milliseconds.
LOW_MS = 0.001
GROWTH = 1.02  # each bin 2% wide: its geometric middle is within 1% of any value in it
BINS = math.ceil(math.log(1e8 / LOW_MS) / math.log(GROWTH)) + 1  # up to ~28 hours


def latency_bins(latencies: np.ndarray) -> np.ndarray:
    """The histogram bin of each latency (ms); below 1 µs goes to bin 0, beyond to the last."""
    safe = np.maximum(np.nan_to_num(latencies, nan=LOW_MS, posinf=1e12), LOW_MS)
    index = np.floor(np.log(safe / LOW_MS) / math.log(GROWTH)).astype(np.int64)
    return np.clip(index, 0, BINS - 1)


def percentile(histogram: np.ndarray, q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of a latency histogram, to within 1%; None if empty.

    Given to three significant digits: the histogram knows no more than that.
    """
    total = int(histogram.sum())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    index = int(np.searchsorted(np.cumsum(histogram), rank))
    return float(f"{LOW_MS * GROWTH ** (index + 0.5):.3g}")


@dataclass
class _Route:
    requests: int = 0
    errors: int = 0
    latency: np.ndarray = field(default_factory=lambda: np.zeros(BINS, np.int64))


@dataclass(frozen=True)
class RouteTraffic:
    """The requests one (role, model version) pair handled in the window."""

    role: str
    model_uri: str
    model_version: str
    requests: int
    share: float | None
    error_rate: float
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class Traffic:
    """Request rate, latency and errors of a deployment over ``[since_ms, until_ms)``."""

    since_ms: int
    until_ms: int
    requests: int
    per_minute: float
    errors: int
    error_rate: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    routes: list[RouteTraffic]
    charts: dict[str, dict[str, Any]]


class TrafficCounter:
    """Folds prediction-log tables of one window into bounded per-route and per-bucket sums."""

    def __init__(self, since_ms: int, until_ms: int) -> None:
        self.since_ms, self.until_ms = since_ms, until_ms
        self.width = max((until_ms - since_ms) // BUCKETS, 1)
        self.routes: dict[tuple[str, str, str], _Route] = {}
        self.rate = np.zeros((len(ROLES), BUCKETS), np.int64)  # requests per role and bucket
        self.answered = np.zeros(BUCKETS, np.int64)
        self.failed = np.zeros(BUCKETS, np.int64)
        self.latency = np.zeros((BUCKETS, BINS), np.int64)  # answered requests only

    def add(self, table: pa.Table | pd.DataFrame) -> None:
        """Count the requests of one table (a segment's, or a frame ``read_predictions`` gave)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table[list(COLUMNS)], preserve_index=False)
        table = _requests(table, self.since_ms, self.until_ms)
        if table.num_rows == 0:
            return
        failed = pc.fill_null(pc.not_equal(table.column("error"), ""), False).to_numpy()
        times = table.column("time_ms").to_numpy()
        bucket = np.clip((times - self.since_ms) // self.width, 0, BUCKETS - 1)
        bins = latency_bins(table.column("latency_ms").fill_null(math.nan).to_numpy())
        table = table.combine_chunks()
        route_ids = pc.dictionary_encode(
            pc.binary_join_element_wise(*(table.column(c) for c in COLUMNS[1:4]), "\x00")
        ).combine_chunks()
        codes = route_ids.indices.to_numpy()
        for code, name in enumerate(route_ids.dictionary.to_pylist()):  # a few routes
            mine = codes == code
            role, uri, version = name.split("\x00")
            route = self.routes.setdefault((role, uri, version), _Route())
            route.requests += int(mine.sum())
            route.errors += int(failed[mine].sum())
            if role in ANSWERING:
                np.add.at(route.latency, bins[mine], 1)
            if role in ROLES:
                np.add.at(self.rate[ROLES.index(role)], bucket[mine], 1)
        answering = pc.is_in(table.column("role"), value_set=pa.array(ANSWERING)).to_numpy()
        np.add.at(self.answered, bucket[answering], 1)
        np.add.at(self.failed, bucket[answering & failed], 1)
        np.add.at(self.latency, (bucket[answering], bins[answering]), 1)

    def result(self) -> Traffic:
        """The window's figures from what was added."""
        total = int(self.answered.sum())
        errors = int(self.failed.sum())
        overall = self.latency.sum(axis=0)
        routes = [
            RouteTraffic(
                role=role,
                model_uri=uri,
                model_version=version,
                requests=r.requests,
                share=r.requests / total if total and role in ANSWERING else None,
                error_rate=r.errors / r.requests,
                p50=percentile(r.latency, 0.5),
                p95=percentile(r.latency, 0.95),
            )
            for (role, uri, version), r in sorted(self.routes.items())
        ]
        minutes = max((self.until_ms - self.since_ms) / MINUTE, 1e-9)
        return Traffic(
            since_ms=self.since_ms,
            until_ms=self.until_ms,
            requests=total,
            per_minute=total / minutes,
            errors=errors,
            error_rate=errors / total if total else None,
            p50=percentile(overall, 0.5),
            p95=percentile(overall, 0.95),
            p99=percentile(overall, 0.99),
            routes=routes,
            charts=self._charts(),
        )

    def _charts(self) -> dict[str, dict[str, Any]]:
        from loopml.ui._echarts import line, time_chart

        xs = [self.since_ms + i * self.width for i in range(BUCKETS)]
        per_minute = MINUTE / self.width
        rate = [
            line(role, xs, [float(n) * per_minute for n in self.rate[i]])
            for i, role in enumerate(ROLES)
            if self.rate[i].any()
        ]
        latency = [
            line(label, xs, [percentile(self.latency[b], q) for b in range(BUCKETS)])
            for label, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
        ]
        errors = [
            100.0 * int(f) / int(n) if n else None
            for f, n in zip(self.failed, self.answered, strict=True)
        ]
        return {
            "rate": time_chart("Requests per minute", "req/min", rate),
            "latency": time_chart("Latency", "ms", latency),
            "errors": time_chart("Error rate", "%", [line("errors", xs, errors)]),
        }


def _requests(table: pa.Table, since_ms: int, until_ms: int) -> pa.Table:
    """One row per request and role with a time in ``[since_ms, until_ms)``, the request-level
    columns typed as the log writes them (a request's rows repeat the same values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    typed = {}
    for name in COLUMNS:
        column = table.column(name)
        if name == "time_ms":
            typed[name] = column.cast(pa.int64())
        elif name == "latency_ms":
            typed[name] = column.cast(pa.float64())
        elif name == "error":
            typed[name] = column.cast(pa.string())
        else:
            typed[name] = column.cast(pa.string()).fill_null("")
    table = pa.table(typed)
    times = table.column("time_ms")
    inside = pc.and_(pc.greater_equal(times, since_ms), pc.less(times, until_ms))
    table = table.filter(pc.fill_null(inside, False))
    if table.num_rows == 0:
        return table
    return table.group_by(list(COLUMNS), use_threads=False).aggregate([])


def traffic(
    tables: Iterable[pa.Table | pd.DataFrame] | pd.DataFrame, since_ms: int, until_ms: int
) -> Traffic:
    """The figures of a window from its tables (or one frame), folded one at a time."""
    import pandas as pd

    counter = TrafficCounter(since_ms, until_ms)
    for table in [tables] if isinstance(tables, pd.DataFrame) else tables:
        counter.add(table)
    return counter.result()
