"""In-memory write batching with a background flusher.

Fluent logging calls return in microseconds: items are queued per run and
written in one transaction per run when the queue reaches ``max_items``,
every ``interval_seconds``, on ``flush()`` and at the end of a run. A failure
in the background is kept and raised on the next call, never swallowed; a
batch the store rejects is retried piece by piece so one bad param does not
take the good metrics down with it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from loopml.core.errors import BackgroundFlushError, LoopmlError, StorageError
from loopml.store import Metric, Param, RunTag, TrackingStore


@dataclass
class _Pending:
    metrics: list[Metric] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    tags: list[RunTag] = field(default_factory=list)


class LogBatcher:
    """Queues metrics, params and tags per run and writes them in bulk."""

    def __init__(self, store: TrackingStore, *, max_items: int, interval_seconds: float) -> None:
        self._store = store
        self._max_items = max_items
        self._interval = interval_seconds
        self._cond = threading.Condition()
        self._flush_lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._count = 0
        self._error: LoopmlError | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        os.register_at_fork(after_in_child=self._reset_after_fork)

    def _reset_after_fork(self) -> None:
        # The flusher thread does not survive fork; the child starts clean.
        self._cond = threading.Condition()
        self._flush_lock = threading.Lock()
        self._pending, self._count, self._thread = {}, 0, None

    def add(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Queue validated items for ``run_id``; raise any earlier background failure."""
        self.raise_pending_error()
        with self._cond:
            pending = self._pending.get(run_id)
            if pending is None:
                pending = self._pending[run_id] = _Pending()
            pending.metrics.extend(metrics)
            pending.params.extend(params)
            pending.tags.extend(tags)
            self._count += len(metrics) + len(params) + len(tags)
            if self._thread is None:
                self._start_thread()
            if self._count >= self._max_items:
                self._cond.notify()

    def flush(self, run_id: str | None = None) -> None:
        """Write what is queued (for one run, or all) now; raise any failure."""
        self.write_queued(run_id)
        self.raise_pending_error()

    def raise_pending_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise BackgroundFlushError(
                f"An earlier batched write failed: {error.message}"
            ) from error

    def close(self) -> None:
        """Flush everything and stop the background thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.write_queued(None)

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="loopml-flusher", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._closed and self._count < self._max_items:
                    self._cond.wait(self._interval)
                if self._closed:
                    return
            self.write_queued(None)

    def _take(self, run_id: str | None) -> dict[str, _Pending]:
        with self._cond:
            if run_id is None:
                taken, self._pending, self._count = self._pending, {}, 0
                return taken
            pending = self._pending.pop(run_id, None)
            if pending is None:
                return {}
            self._count -= len(pending.metrics) + len(pending.params) + len(pending.tags)
            return {run_id: pending}

    def _requeue(self, run_id: str, pending: _Pending) -> None:
        with self._cond:
            later = self._pending.get(run_id)
            if later is not None:
                pending.metrics.extend(later.metrics)
                pending.params.extend(later.params)
                pending.tags.extend(later.tags)
            self._pending[run_id] = pending
            self._count = sum(
                len(p.metrics) + len(p.params) + len(p.tags) for p in self._pending.values()
            )

    def write_queued(self, run_id: str | None) -> None:
        """Write what is queued now; failures are kept for the next call."""
        with self._flush_lock:
            for rid, pending in self._take(run_id).items():
                try:
                    self._store.log_batch(rid, pending.metrics, pending.params, pending.tags)
                except StorageError as exc:
                    # The store is unreachable: keep the items for the next attempt.
                    self._requeue(rid, pending)
                    self._error = exc
                except LoopmlError as exc:
                    self._error = self._write_piecewise(rid, pending) or exc

    def _write_piecewise(self, run_id: str, pending: _Pending) -> LoopmlError | None:
        """Retry a rejected batch in parts; return the first error that remains."""
        parts: list[tuple[Sequence[Metric], Sequence[Param], Sequence[RunTag]]] = [
            (pending.metrics, (), pending.tags)
        ] + [((), (param,), ()) for param in pending.params]
        first: LoopmlError | None = None
        for metrics, params, tags in parts:
            try:
                self._store.log_batch(run_id, metrics, params, tags)
            except LoopmlError as exc:
                first = first or exc
        return first
