"""In-memory write batching with a background flusher, durable in remote mode.

Fluent logging calls return in microseconds: items are queued per run and
sealed into batches (one per run) when the queue reaches ``max_items``,
every ``interval_seconds``, on ``flush()`` and at the end of a run. A sealed
batch gets a unique id, is appended to the spool (remote mode; a Null
Object in embedded mode) and waits in the outbox until the store has it.

- The store unreachable (``StorageError``: server down, network, database
  gone): the batch stays in the outbox and in the spool; the flusher retries
  with exponential backoff (0.25 s doubling to 10 s) and logging calls keep
  returning. ``flush()`` (and so the end of a run) waits for delivery up to
  ``delivery_timeout`` (``LOOPML_DELIVERY_TIMEOUT_SECONDS``, 30 s), then
  raises ``BackgroundFlushError``; the batches stay queued and spooled, for
  later attempts or a replay.
- The store rejecting a batch (a param changed, a finished run): it is
  retried in parts so one bad param does not take the good metrics down; the
  error is kept and raised by the next call, never swallowed.

Retries resend the same batch id, and the store records ids with the write,
so a batch whose answer was lost is not stored twice.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from loopml.core.errors import BackgroundFlushError, LoopmlError, StorageError
from loopml.store import Metric, Param, RunTag, TrackingStore
from loopml.tracking._spool import NullSpool, Spool, SpooledBatch, deliver, seal

log = logging.getLogger("loopml.tracking")

DELIVERY_TIMEOUT_SECONDS = 30.0
BACKOFF_FIRST_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 10.0


@dataclass
class _Pending:
    metrics: list[Metric] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    tags: list[RunTag] = field(default_factory=list)


def backoff_delay(failures: int) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row (with jitter)."""
    delay = min(BACKOFF_FIRST_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS)
    return delay * random.uniform(0.8, 1.2)


class LogBatcher:
    """Queues metrics, params and tags per run and writes them in bulk."""

    def __init__(
        self,
        store: TrackingStore,
        *,
        max_items: int,
        interval_seconds: float,
        spool: Spool | NullSpool | None = None,
        delivery_timeout: float | None = None,
    ) -> None:
        self._store = store
        self._max_items = max_items
        self._interval = interval_seconds
        self._spool = spool or NullSpool()
        self._delivery_timeout = (
            DELIVERY_TIMEOUT_SECONDS if delivery_timeout is None else delivery_timeout
        )
        self._cond = threading.Condition()
        self._flush_lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._count = 0
        self._outbox: deque[SpooledBatch] = deque()
        self._failures = 0
        self._retry_at = 0.0
        self._unreachable: StorageError | None = None
        self._error: LoopmlError | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        os.register_at_fork(after_in_child=self._reset_after_fork)

    def _reset_after_fork(self) -> None:
        # The flusher thread does not survive fork; the child starts clean.
        self._cond = threading.Condition()
        self._flush_lock = threading.Lock()
        self._pending, self._count, self._thread = {}, 0, None
        self._outbox, self._failures, self._retry_at = deque(), 0, 0.0

    @property
    def undelivered(self) -> int:
        """Items sealed but not yet stored (waiting for the store to come back)."""
        return sum(batch.size for batch in list(self._outbox))

    def add(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Queue validated items for ``run_id``; raise any earlier rejection."""
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
        """Write what is queued (for one run, or all) now; raise any failure.

        If the store is unreachable, retries with backoff for up to the
        delivery timeout, then raises ``BackgroundFlushError`` (the batches
        stay queued, and spooled in remote mode).
        """
        deadline = time.monotonic() + self._delivery_timeout
        while True:
            with self._flush_lock:
                self._seal(run_id)
                if self._deliver():
                    break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._undeliverable()
            time.sleep(min(backoff_delay(self._failures), remaining))
        self.raise_pending_error()

    def _undeliverable(self) -> BackgroundFlushError:
        where = (
            f" They are kept in {self._spool.path} and sent by the next process that logs to "
            "this server, or by `loopml sync`."
            if self._spool.path is not None
            else " They stay queued in this process."
        )
        reason = self._unreachable.message if self._unreachable else "the store is unreachable"
        error = BackgroundFlushError(
            f"Could not write {len(self._outbox)} batches ({self.undelivered} items) for "
            f"{self._delivery_timeout:g} s: {reason}.{where}"
        )
        error.__cause__ = self._unreachable
        return error

    def raise_pending_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise BackgroundFlushError(
                f"An earlier batched write failed: {error.message}"
            ) from error

    def close(self) -> None:
        """Stop the background thread and write what is queued.

        Waits up to the delivery timeout unless the store was already failing;
        what is still undelivered then is left in the spool (remote mode) for
        a later replay, and reported in the log. Never raises.
        """
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            if self._failures:
                self.write_queued(None)
            else:
                self.flush()
        except LoopmlError as exc:
            log.warning("loopml: %s", exc.message)
        self._spool.close()

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
            with self._flush_lock:
                self._seal(None)  # sealed (and spooled) even while the store is down
                if time.monotonic() >= self._retry_at:
                    self._deliver()

    def write_queued(self, run_id: str | None) -> None:
        """Seal what is queued and try once to write it; failures are kept for later."""
        with self._flush_lock:
            self._seal(run_id)
            self._deliver()

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

    def _seal(self, run_id: str | None) -> None:
        """Turn queued items into batches with ids, spooled before any is sent."""
        for rid, pending in self._take(run_id).items():
            batch = seal(rid, pending.metrics, pending.params, pending.tags)
            try:
                self._spool.append(batch)
            except StorageError as exc:  # a full disk must not stop the logging
                log.warning("loopml: %s", exc.message)
            self._outbox.append(batch)

    def _deliver(self) -> bool:
        """Send the outbox in order; True when it is empty. Call with the flush lock."""
        while self._outbox:
            batch = self._outbox[0]
            try:
                rejected = deliver(self._store, batch)
            except StorageError as exc:
                self._unreachable = exc
                self._failures += 1
                self._retry_at = time.monotonic() + backoff_delay(self._failures)
                return False
            self._failures, self._unreachable = 0, None
            self._outbox.popleft()
            self._spool.ack(batch.batch_id)
            if rejected is not None and self._error is None:
                self._error = rejected
        return True
