"""``PredictionLogger``: the asynchronous, bounded sink of the inference server.

``record`` only appends to an in-memory queue under a lock: it never blocks on
I/O and never raises. A daemon thread takes up to ``flush_rows`` rows at a
time (when that many wait, every ``flush_interval_seconds``, or on ``flush``),
encodes them as one Parquet segment and stores it (``SegmentStorage``).

Memory is bounded: the rows queued plus the rows being written never exceed
``max_queue_rows``; a record that does not fit is dropped and counted
(``dropped``), so a slow or broken sink costs log records, never requests or
memory. A failed write is retried with backoff (0.25 s doubling to 10 s) and
counted (``failed_writes``); a write the sink refuses for good (a 4xx) and a
batch that cannot be encoded are dropped and counted too. ``close`` flushes,
then drops what it could not write in time.

Sampling is by request id (a stable hash), so the rows of one request, and
the primary and shadow answers to it, are kept or skipped together.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import deque

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.deployments import _codec
from loopml.deployments._deployments import open_deployment_store
from loopml.deployments._storage import SegmentStorage
from loopml.deployments._validation import check_bound, validate_deployment_name
from loopml.store import PredictionRecord
from loopml.tracking import Client

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 10.0


def sampled_in(request_id: str, rate: float) -> bool:
    """Whether a request falls in the sample: the same answer for the same id, always."""
    if rate >= 1.0:
        return True
    return zlib.crc32(request_id.encode("utf-8", "surrogatepass")) < rate * 2**32


class PredictionLogger:
    """Records predictions of one deployment into its prediction log, in the background."""

    def __init__(
        self,
        client: Client,
        deployment: str,
        *,
        max_queue_rows: int = 100_000,
        flush_rows: int = 10_000,
        flush_interval_seconds: float = 5.0,
        sample_rate: float = 1.0,
        storage: SegmentStorage | None = None,
    ) -> None:
        self.deployment = validate_deployment_name(deployment)
        self.max_queue_rows = check_bound(max_queue_rows, "max_queue_rows", minimum=1, integer=True)
        self.flush_rows = min(
            check_bound(flush_rows, "flush_rows", minimum=1, integer=True), self.max_queue_rows
        )
        self.flush_interval_seconds = float(
            check_bound(
                flush_interval_seconds, "flush_interval_seconds", minimum=0.001, integer=False
            )
        )
        rate = check_bound(sample_rate, "sample_rate", minimum=0.0, integer=False)
        if rate > 1:
            raise _bad_rate(sample_rate)
        self.sample_rate = float(rate)
        _codec.arrow()  # fail here, loudly, rather than drop every record later
        self._storage = storage if storage is not None else open_deployment_store(client)[1]
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[tuple[PredictionRecord, int]] = deque()
        self._queued_rows = 0
        self._writing_rows = 0
        self._accepted = 0  # records accepted so far
        self._handled = 0  # accepted records written or dropped since
        self._flush_wanted = False
        self._closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dropped = 0
        self._sampled_out = 0
        self._failed_writes = 0
        self._written_rows = 0
        self._written_segments = 0
        self.last_error: str | None = None

    # -- counters -------------------------------------------------------------------------
    @property
    def dropped(self) -> int:
        """Records dropped: queue full, refused or unencodable batches, unwritten at close."""
        return self._dropped

    @property
    def queue_depth(self) -> int:
        """Rows waiting to be written (including the batch being written)."""
        return self._queued_rows + self._writing_rows

    @property
    def sampled_out(self) -> int:
        """Records skipped because they fell outside ``sample_rate``."""
        return self._sampled_out

    @property
    def failed_writes(self) -> int:
        """Write attempts that failed (each retried, with backoff)."""
        return self._failed_writes

    @property
    def written_rows(self) -> int:
        return self._written_rows

    @property
    def written_segments(self) -> int:
        return self._written_segments

    # -- the hot path ---------------------------------------------------------------------
    def record(self, rec: PredictionRecord) -> bool:
        """Queue one request's predictions; False if dropped or not sampled. Never raises."""
        try:
            if not sampled_in(str(rec.request_id), self.sample_rate):
                with self._cond:
                    self._sampled_out += 1
                return False
            rows = _codec.rows_of(rec)
            with self._cond:
                if self._closed or self.queue_depth + rows > self.max_queue_rows:
                    self._dropped += 1
                    return False
                self._queue.append((rec, rows))
                self._queued_rows += rows
                self._accepted += 1
                if self._thread is None:
                    self._start()
                if self._queued_rows >= self.flush_rows or len(self._queue) == 1:
                    self._cond.notify_all()  # a full batch, or the first after an idle spell
            return True
        except Exception:  # a malformed record must never fail the request
            with self._cond:
                self._dropped += 1
            return False

    def flush(self, timeout: float = 10.0) -> None:
        """Wait (up to ``timeout`` seconds) until everything recorded so far is written."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._accepted
            self._flush_wanted = True
            self._cond.notify_all()
            while self._handled < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    break
                self._cond.wait(left)
            if self._handled >= target:
                self._flush_wanted = False

    def close(self, timeout: float = 10.0) -> None:
        """Flush (up to ``timeout``), stop the writer; records still unwritten are dropped."""
        deadline = time.monotonic() + timeout
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(max(deadline - time.monotonic(), 0.1))
        with self._cond:
            if self._queue:  # the writer stopped (or was never started) before these
                self._dropped += len(self._queue)
                self._handled += len(self._queue)
                self._queue.clear()
                self._queued_rows = 0

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the writer thread ----------------------------------------------------------------
    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"loopml-prediction-log-{self.deployment}", daemon=True
        )
        self._thread.start()

    def _take(self) -> list[PredictionRecord] | None:
        """The next batch (waiting for one to be due), or None once closed and drained."""
        with self._cond:
            due = time.monotonic() + self.flush_interval_seconds
            while True:
                if self._queue and (
                    self._queued_rows >= self.flush_rows
                    or self._flush_wanted
                    or self._closed
                    or time.monotonic() >= due
                ):
                    break
                if self._closed:
                    return None
                if not self._queue:
                    # Idle: sleep until a record arrives (record() wakes the first one),
                    # then give the batch a whole interval to fill.
                    self._cond.wait()
                    due = time.monotonic() + self.flush_interval_seconds
                    continue
                self._cond.wait(max(due - time.monotonic(), 0.001))
            batch: list[PredictionRecord] = []
            rows = 0
            while self._queue and (not batch or rows + self._queue[0][1] <= self.flush_rows):
                rec, n = self._queue.popleft()
                batch.append(rec)
                rows += n
            self._queued_rows -= rows
            self._writing_rows = rows
            return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            written = self._write(batch)
            with self._cond:
                if written:
                    self._written_rows += self._writing_rows
                    self._written_segments += 1
                else:
                    self._dropped += len(batch)
                self._writing_rows = 0
                self._handled += len(batch)
                if self._handled >= self._accepted:
                    self._flush_wanted = False
                self._cond.notify_all()

    def _write(self, batch: list[PredictionRecord]) -> bool:
        try:
            data, lo, hi, rows = _codec.encode(batch)
        except Exception as exc:
            self.last_error = f"cannot encode {len(batch)} records: {exc}"
            log.warning("Prediction log of %r: %s", self.deployment, self.last_error)
            return False
        delay = FIRST_BACKOFF_SECONDS
        while True:
            try:
                self._storage.write(self.deployment, data, lo, hi, rows)
                return True
            except LoopmlError as exc:
                self._failed(exc)
                if exc.http_status < 500:  # refused: sending it again cannot help
                    return False
            except Exception as exc:
                self._failed(exc)
            if self._stop.wait(delay):
                return False
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    def _failed(self, exc: Exception) -> None:
        with self._cond:
            self._failed_writes += 1
        self.last_error = f"{exc.__class__.__name__}: {exc}"
        log.warning("Prediction log of %r: write failed: %s", self.deployment, self.last_error)


def _bad_rate(rate: object) -> InvalidArgument:
    return InvalidArgument(f"Invalid sample_rate {rate!r}: give a number from 0 to 1.")
