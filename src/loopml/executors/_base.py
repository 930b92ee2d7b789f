"""The executor seam: run a function somewhere else, get a ``Future`` back.

Pipelines run their steps and tuning runs its trials through one small
interface, so the same code runs in this process (``inline``), on a pool of
local worker processes (``local``) or on a Ray cluster (``ray``). An
executor takes a function and its arguments, an optional ``timeout`` (the
task is killed past it and its future raises ``StepTimeout``) and optional
``resources`` (CPUs, GPUs, memory: honoured by Ray, ignored elsewhere).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

from loopml.core.errors import InvalidArgument, InvalidState, LoopmlError

T = TypeVar("T")


class ExecutorError(LoopmlError):
    """A task could not be run to its end by its executor (not an error of the task)."""


class StepTimeout(ExecutorError):
    """A task ran past its ``timeout`` and was stopped (its worker was killed)."""


class WorkerCrashed(ExecutorError):
    """The process running a task died before the task returned."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, attached as its ``__cause__``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n--- traceback in the worker ---\n{self.text}"


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One call to run, with the ``timeout`` and ``resources`` it was submitted with (checked)."""

    fn: Callable[..., T]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    timeout: float | None = None
    resources: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A readable name of the function, for error messages."""
        return task_name(self.fn)


class Executor(abc.ABC):
    """Runs functions and hands back futures; ``max_workers`` tasks at most run at once.

    ``submit`` checks the arguments every executor shares, then hands the
    call to ``_submit``; a subclass implements ``_submit`` and ``shutdown``.
    """

    max_workers: int
    _closed: bool = False

    def submit(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        timeout: float | None = None,
        resources: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> Future[T]:
        """Run ``fn(*args, **kwargs)``; the future holds its result or its exception.

        ``timeout`` (seconds, counted from the task's start) stops the task and
        makes the future raise ``StepTimeout``. Functions and arguments must be
        picklable with cloudpickle (closures and ``__main__`` functions are).
        """
        call = Call(fn, args, kwargs, check_timeout(timeout), check_resources(resources))
        return self._submit(call)

    @abc.abstractmethod
    def _submit(self, call: Call[T]) -> Future[T]:
        """Queue or run one call whose ``timeout`` and ``resources`` are already checked."""

    @abc.abstractmethod
    def shutdown(self, kill: bool = False) -> None:
        """Stop taking tasks: pending ones are cancelled; running ones finish first,
        or with ``kill=True`` are stopped at once (their futures raise ExecutorError)."""

    def _check_open(self) -> None:
        """InvalidState once ``shutdown`` was called (subclasses call it under their lock)."""
        if self._closed:
            raise InvalidState("This executor is shut down: create a new one.")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        """Shut down; running tasks are killed when the block is left by an exception."""
        self.shutdown(kill=exc[0] is not None)


def check_timeout(timeout: float | None) -> float | None:
    """A task timeout in seconds: None, or a finite number above 0."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise InvalidArgument(f"Invalid timeout {timeout!r}: give seconds as a number, or None.")
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidArgument(f"Invalid timeout {timeout!r}: it must be a number of seconds > 0.")
    return float(timeout)


def check_max_workers(max_workers: int | None, default: int) -> int:
    """How many tasks may run at once: ``default`` when None, else an int >= 1."""
    if max_workers is None:
        return max(1, default)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidArgument(f"Invalid max_workers {max_workers!r}: it must be an int >= 1.")
    return max_workers


def check_resources(resources: Mapping[str, float] | None) -> dict[str, float]:
    """Resource requests as a plain dict of non-negative numbers."""
    if resources is None:
        return {}
    if not isinstance(resources, Mapping):
        raise InvalidArgument(
            f"Invalid resources {resources!r}: give a mapping such as {{'cpu': 2, 'gpu': 1}}."
        )
    checked: dict[str, float] = {}
    for name, amount in resources.items():
        if (
            not isinstance(name, str)
            or isinstance(amount, bool)
            or not isinstance(amount, int | float)
            or not math.isfinite(amount)
            or amount < 0
        ):
            raise InvalidArgument(
                f"Invalid resource {name!r}: {amount!r}. Resources map names (cpu, gpu, "
                "memory or a custom Ray resource) to amounts >= 0."
            )
        checked[name] = float(amount)
    return checked


def task_name(fn: Callable[..., Any]) -> str:
    """A readable name for a submitted function, for error messages."""
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{module}.{name}" if module and module != "__main__" else str(name)
