"""Live traffic for the demo: one subscriber per request, every answer counted.

A thread posts rows of the current regime to the inference server's
``/invocations`` at a steady rate, each with its own ``X-Request-Id``, and
counts what came back: answers by the model version that gave them, and
failures (a connection error or any status but 200) with the phase they
happened in. The true labels of the rows it sent are attached to the
deployment's prediction log about once a second (``log_labels``), as a
label feed would, so monitoring also measures live accuracy.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pandas as pd

from loopml.core.errors import LoopmlError
from loopml.demo._data import FEATURES, TARGET

log = logging.getLogger("loopml.demo")
LABEL_FLUSH_SECONDS = 1.0
MAX_FAILURES_KEPT = 20


@dataclass
class TrafficStats:
    """What the sender saw, per phase: sent, failed, answered by which model version."""

    sent: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    versions: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    labels_logged: int = 0
    label_errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.latency_ms)
        p95 = ordered[int(0.95 * (len(ordered) - 1))] if ordered else None
        return {
            "sent": sum(self.sent.values()),
            "failed": sum(self.failed.values()),
            "by_phase": {
                phase: {
                    "sent": self.sent[phase],
                    "failed": self.failed[phase],
                    "versions": dict(self.versions.get(phase, {})),
                }
                for phase in self.sent
            },
            "failures": list(self.failures),
            "latency_p95_ms": p95,
            "labels_logged": self.labels_logged,
            "label_errors": self.label_errors,
        }


class TrafficSender:
    """Posts rows to ``url`` from a thread until stopped; ``phase`` and ``rows`` can change live.

    ``log_labels(labels)`` receives ``{request_id: label}`` batches.
    """

    def __init__(
        self,
        url: str,
        rows: pd.DataFrame,
        *,
        rate: float,
        log_labels: Callable[[dict[str, int]], int],
        phase: str = "baseline",
    ) -> None:
        self.url = url.rstrip("/") + "/invocations"
        self.rate = rate
        self.stats = TrafficStats()
        self._log_labels = log_labels
        self._lock = threading.Lock()
        self._rows = rows
        self._phase = phase
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopml-demo-traffic", daemon=True)
        self._pending_labels: dict[str, int] = {}

    @property
    def phase(self) -> str:
        return self._phase

    def switch(self, phase: str, rows: pd.DataFrame | None = None) -> None:
        """From the next request on, count under ``phase`` (and send ``rows``, if given)."""
        with self._lock:
            self._phase = phase
            if rows is not None:
                self._rows = rows

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop sending, and attach the labels not attached yet."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._flush_labels()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.stats.to_dict()

    def _run(self) -> None:
        gap = 1.0 / self.rate
        count = 0
        next_flush = time.monotonic() + LABEL_FLUSH_SECONDS
        with httpx.Client(timeout=10.0) as http:
            while not self._stop.is_set():
                started = time.monotonic()
                with self._lock:
                    rows, phase = self._rows, self._phase
                row = rows.iloc[count % len(rows)]
                count += 1
                self._send(http, f"demo-{count:06d}", row, phase)
                if time.monotonic() >= next_flush:
                    self._flush_labels()
                    next_flush = time.monotonic() + LABEL_FLUSH_SECONDS
                self._stop.wait(max(0.0, gap - (time.monotonic() - started)))

    def _send(self, http: httpx.Client, request_id: str, row: pd.Series, phase: str) -> None:
        body = {
            "dataframe_split": {
                "columns": list(FEATURES),
                "data": [[_plain(row[c]) for c in FEATURES]],
            }
        }
        started = time.monotonic()
        try:
            answer = http.post(self.url, json=body, headers={"X-Request-Id": request_id})
        except httpx.HTTPError as exc:
            self._count(phase, None, f"{phase}: {type(exc).__name__}: {exc}", 0.0)
            return
        took = (time.monotonic() - started) * 1000.0
        if answer.status_code != 200:
            self._count(
                phase, None, f"{phase}: HTTP {answer.status_code}: {answer.text[:200]}", took
            )
            return
        version = answer.headers.get("x-model-version", "?")
        if version.startswith("models:/"):  # models:/churn/2 -> 2
            version = version.rsplit("/", 1)[-1]
        self._count(phase, version, None, took)
        self._pending_labels[request_id] = int(row[TARGET])

    def _count(self, phase: str, version: str | None, failure: str | None, took: float) -> None:
        with self._lock:
            self.stats.sent[phase] += 1
            if failure is not None:
                self.stats.failed[phase] += 1
                if len(self.stats.failures) < MAX_FAILURES_KEPT:
                    self.stats.failures.append(failure)
                return
            self.stats.versions.setdefault(phase, Counter())[str(version)] += 1
            self.stats.latency_ms.append(took)

    def _flush_labels(self) -> None:
        labels, self._pending_labels = self._pending_labels, {}
        if not labels:
            return
        try:
            written = self._log_labels(labels)
        except (LoopmlError, httpx.HTTPError) as exc:  # labels are extra: traffic goes on
            log.warning("Could not attach %d labels: %s", len(labels), exc)
            with self._lock:
                self.stats.label_errors += 1
            return
        with self._lock:
            self.stats.labels_logged += written


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON can carry."""
    with contextlib.suppress(AttributeError):
        return value.item()
    return value
