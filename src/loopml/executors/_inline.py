"""``InlineExecutor``: runs each task in the calling thread, at ``submit``.

For debugging (a breakpoint in a step just works) and for the fastest
path when nothing needs to run in parallel. Nothing can be killed here, so
a timeout is judged when the task returns: a task that ran past it still
fails with ``StepTimeout``, as it would on the other executors, but only
once it has finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

from loopml.core.errors import InvalidState
from loopml.executors._base import StepTimeout, check_resources, check_timeout, task_name

T = TypeVar("T")


class InlineExecutor:
    """Runs tasks one at a time in the caller's thread; ``max_workers`` is 1."""

    max_workers = 1

    def __init__(self) -> None:
        self._closed = False

    def __enter__(self) -> InlineExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def submit(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        timeout: float | None = None,
        resources: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> Future[T]:
        limit = check_timeout(timeout)
        check_resources(resources)
        if self._closed:
            raise InvalidState("This executor is shut down: create a new one.")
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        started = time.monotonic()
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            future.set_exception(exc)
            return future
        if limit is not None and time.monotonic() - started > limit:
            future.set_exception(
                StepTimeout(
                    f"{task_name(fn)} ran longer than its timeout of {limit:g} s (the inline "
                    "executor cannot stop a task, so it failed once it returned)."
                )
            )
        else:
            future.set_result(value)
        return future

    def shutdown(self, kill: bool = False) -> None:
        self._closed = True
