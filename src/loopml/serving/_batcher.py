"""Adaptive micro-batching: concurrent requests share one model call.

Requests wait in a queue; one task per model takes them in batches of at
most ``max_batch_size`` rows and predicts each batch in the model's own
thread, so the event loop keeps parsing and answering meanwhile (requests
that arrive during a prediction form the next batch by themselves). The one
exception is a batch of a few rows for a predictor that takes microseconds
(the ONNX fast path): the hand-off to a thread and back would cost several
times the prediction, so it runs in place.

How long a batch waits for more requests adapts to the load: an idle server
sends a lone request at once (no added latency); when requests arrive
together but do not fill a batch, the wait grows toward
``max_batch_delay``; when batches fill up, it shrinks again, since the
queue fills them without waiting.

A batch that fails is predicted again request by request, so one bad input
fails only its own caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.serving._payload import Payload, concat, row_count, split

log = logging.getLogger("loopml.serving")


@dataclass(slots=True)
class _Item:
    payload: Payload
    rows: int
    future: asyncio.Future[Any]


class PredictionFailed(InvalidArgument):
    """The model raised on this input (MLflow answers these with 400 too)."""


class MicroBatcher:
    """Queues payloads for one model and predicts them in batches off the event loop."""

    def __init__(
        self,
        predict: Callable[[Payload], Any],
        *,
        max_batch_size: int,
        max_delay_seconds: float,
        name: str,
        on_batch: Callable[[int], None] | None = None,
        fast: Callable[[Payload], Any] | None = None,
        fast_rows: int = 0,
    ) -> None:
        self._predict = predict
        self._fast = fast
        self._fast_rows = fast_rows if fast is not None else 0
        self._max_rows = max_batch_size
        self._max_delay = max_delay_seconds
        self._on_batch = on_batch
        self._pending: deque[_Item] = deque()
        self._pending_rows = 0
        self._wakeup = asyncio.Event()
        self._wait = 0.0
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"predict-{name}")
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def queue_depth(self) -> int:
        """Rows waiting for a batch."""
        return self._pending_rows

    @property
    def current_wait(self) -> float:
        """How long the next batch may wait for more requests, in seconds."""
        return self._wait

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Finish what is queued, then stop the task and the thread."""
        self._closed = True
        while self._pending:
            await asyncio.sleep(0.005)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._executor.shutdown(wait=True)

    async def submit(self, payload: Payload) -> Any:
        """The model's predictions for ``payload`` (its own rows, in order)."""
        if self._closed:  # a request that picked this model just before it was retired
            result = await asyncio.to_thread(self._predict_one, payload)
            if isinstance(result, BaseException):
                raise result
            return result
        if self._task is None:
            self.start()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        rows = row_count(payload)
        self._pending.append(_Item(payload, rows, future))
        self._pending_rows += rows
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch, rows = self._take([], 0)
            if rows < self._max_rows and self._wait > 0:
                deadline = loop.time() + self._wait
                while rows < self._max_rows:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    self._wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), remaining)
                    batch, rows = self._take(batch, rows)
            self._adapt(len(batch), rows)
            if self._on_batch is not None:
                self._on_batch(rows)
            results = self._fast_batch(batch) if rows <= self._fast_rows else None
            if results is None:
                results = await loop.run_in_executor(self._executor, self._predict_batch, batch)
            for item, result in zip(batch, results, strict=True):
                if item.future.done():  # the caller went away
                    continue
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    def set_fast(self, fast: Callable[[Payload], Any] | None, fast_rows: int) -> None:
        """Switch the inline predictor (the ONNX path, settled after the model serves)."""
        self._fast = fast
        self._fast_rows = fast_rows if fast is not None else 0

    def _take(self, batch: list[_Item], rows: int) -> tuple[list[_Item], int]:
        while self._pending and (not batch or rows + self._pending[0].rows <= self._max_rows):
            item = self._pending.popleft()
            self._pending_rows -= item.rows
            if item.future.done():  # cancelled while queued
                continue
            batch.append(item)
            rows += item.rows
        return batch, rows

    def _adapt(self, requests: int, rows: int) -> None:
        if rows >= self._max_rows:
            self._wait /= 2  # the queue fills batches by itself
        elif requests == 1 and not self._pending:
            self._wait = 0.0  # idle: a lone request goes at once
        else:  # requests arrive together: a little patience gathers more
            self._wait = min(self._max_delay, max(self._wait * 2, self._max_delay / 4))

    def _fast_batch(self, batch: list[_Item]) -> list[Any] | None:
        """A small batch through ``fast`` right here, or None to use the thread.

        ``fast`` is a predictor that takes microseconds on a few rows (ONNX
        Runtime): handing such a batch to a thread and back costs several
        times more than predicting it. It returns None for input it cannot
        take as the native path would; any surprise also goes to the thread.
        """
        assert self._fast is not None
        try:
            out = self._fast(concat([item.payload for item in batch]))
            if out is None:
                return None
            return split(out, [item.rows for item in batch])
        except Exception:
            return None

    def _predict_batch(self, batch: list[_Item]) -> list[Any]:
        """Runs in the model's thread: one call for the batch, or one per request on failure."""
        if len(batch) > 1:
            try:
                joined = concat([item.payload for item in batch])
                return split(self._predict(joined), [item.rows for item in batch])
            except Exception:  # find out whose input it was
                pass
        return [self._predict_one(item.payload) for item in batch]

    def _predict_one(self, payload: Payload) -> Any:
        try:
            return self._predict(payload)
        except LoopmlError as exc:
            return exc
        except Exception as exc:
            log.warning("The model failed on a request: %s: %s", type(exc).__name__, exc)
            detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            return PredictionFailed(
                f"The model failed on this input ({type(exc).__name__}: {detail}). Check the "
                "input against the model's signature."
            )
