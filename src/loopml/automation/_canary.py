"""The canary verdict: live numbers of the challenger's traffic against the policy's limits.

The prediction log has one row per predicted row; a request is counted once
(its id), failed if any of its rows carries an error, and its latency is the
request's. A verdict is taken only on at least ``min_requests`` requests, so
one early error is not a 100% error rate: until then the canary waits, and
if ``max_seconds`` pass first the challenger is rolled back for lack of
evidence (the champion is never replaced on too little traffic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

WAIT, PROMOTE, ROLLBACK = "wait", "promote", "rollback"


@dataclass(frozen=True)
class CanaryStats:
    """The challenger's traffic so far: requests, failed requests, error rate, p95 latency."""

    requests: int
    errors: int
    error_rate: float
    p95_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "p95_ms": self.p95_ms,
        }

    def describe(self) -> str:
        latency = "no latency yet" if self.p95_ms is None else f"p95 {self.p95_ms:.1f} ms"
        return (
            f"{self.requests} requests, {self.errors} failed "
            f"(error rate {self.error_rate:.3f}), {latency}"
        )


def canary_stats(frame: pd.DataFrame, version: str | None = None) -> CanaryStats:
    """Stats of the rows with role ``canary`` (of model ``version`` when given)."""
    if frame.empty or "role" not in frame.columns:
        return CanaryStats(0, 0, 0.0, None)
    rows = frame[frame["role"] == "canary"]
    if version is not None and "model_version" in rows.columns:
        rows = rows[rows["model_version"].astype(str) == str(version)]
    if rows.empty:
        return CanaryStats(0, 0, 0.0, None)
    failed = rows["error"].notna() & (rows["error"].astype(str) != "")
    per_request = (
        pd.DataFrame(
            {"request_id": rows["request_id"], "failed": failed, "latency": rows["latency_ms"]}
        )
        .groupby("request_id", sort=False)
        .agg(failed=("failed", "any"), latency=("latency", "max"))
    )
    requests = len(per_request)
    errors = int(per_request["failed"].sum())
    latencies = per_request["latency"].dropna().to_numpy(dtype=float)
    p95 = float(np.percentile(latencies, 95)) if len(latencies) else None
    return CanaryStats(requests, errors, errors / requests, p95)


def verdict(
    stats: CanaryStats, elapsed_s: float, canary: dict[str, Any], limits: dict[str, Any]
) -> tuple[str, str]:
    """What to do now (wait, promote or rollback) and why, in words with the numbers."""
    seen = stats.describe()
    if stats.requests >= limits["min_requests"]:
        if stats.error_rate > limits["max_error_rate"]:
            return ROLLBACK, (
                f"error rate {stats.error_rate:.3f} > {limits['max_error_rate']:.3f} ({seen})"
            )
        bound = limits["max_latency_p95_ms"]
        if bound is not None and stats.p95_ms is not None and stats.p95_ms > bound:
            return ROLLBACK, f"p95 latency {stats.p95_ms:.1f} ms > {bound:.1f} ms ({seen})"
        if stats.requests >= canary["requests"]:
            return PROMOTE, f"canary passed: {seen}"
        if elapsed_s >= canary["max_seconds"]:
            return PROMOTE, f"canary passed after {elapsed_s:.0f} s: {seen}"
        return WAIT, seen
    if elapsed_s >= canary["max_seconds"]:
        return ROLLBACK, (
            f"too little canary traffic after {elapsed_s:.0f} s: {seen}, needed "
            f"{limits['min_requests']}"
        )
    return WAIT, seen
