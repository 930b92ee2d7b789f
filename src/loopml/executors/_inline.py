"""``InlineExecutor``: runs each task in the calling thread, at ``submit``.

For debugging (a breakpoint in a step just works) and for the fastest
path when nothing needs to run in parallel. Nothing can be killed here, so
a timeout is judged when the task returns: a task that ran past it still
fails with ``StepTimeout``, as it would on the other executors, but only
once it has finished.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import TypeVar

from loopml.executors._base import Call, Executor, StepTimeout

T = TypeVar("T")


class InlineExecutor(Executor):
    """Runs tasks one at a time in the caller's thread; ``max_workers`` is 1."""

    max_workers = 1

    def __init__(self) -> None:
        self._closed = False

    def _submit(self, call: Call[T]) -> Future[T]:
        self._check_open()
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        started = time.monotonic()
        try:
            value = call.fn(*call.args, **call.kwargs)
        except Exception as exc:
            future.set_exception(exc)
            return future
        if call.timeout is not None and time.monotonic() - started > call.timeout:
            future.set_exception(
                StepTimeout(
                    f"{call.name} ran longer than its timeout of {call.timeout:g} s (the inline "
                    "executor cannot stop a task, so it failed once it returned)."
                )
            )
        else:
            future.set_result(value)
        return future

    def shutdown(self, kill: bool = False) -> None:
        self._closed = True
