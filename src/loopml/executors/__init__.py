"""Executors: where pipeline steps and tuning trials run.

::

    from loopml.executors import get_executor

    with get_executor("local", max_workers=4) as executor:
        future = executor.submit(train, data, timeout=600)
        model = future.result()

``inline`` runs tasks in the calling thread (debugging, the fastest path),
``local`` on a pool of worker processes on this machine, ``ray`` on a local
Ray instance or a cluster (``address="ray://host:10001"``). The same code
runs on all three; a task past its ``timeout`` is stopped and its future
raises ``StepTimeout``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from loopml.core.errors import InvalidArgument
from loopml.executors._base import (
    Executor,
    ExecutorError,
    RemoteTraceback,
    StepTimeout,
    WorkerCrashed,
    check_max_workers,
)
from loopml.executors._inline import InlineExecutor
from loopml.executors._local import LocalExecutor

ExecutorKind = Literal["local", "ray", "inline"]
EXECUTOR_KINDS: tuple[str, ...] = ("local", "ray", "inline")

__all__ = [
    "EXECUTOR_KINDS",
    "Executor",
    "ExecutorError",
    "ExecutorKind",
    "InlineExecutor",
    "LocalExecutor",
    "RemoteTraceback",
    "StepTimeout",
    "WorkerCrashed",
    "check_choice",
    "get_executor",
]


def get_executor(
    kind: ExecutorKind | str = "local",
    *,
    max_workers: int | None = None,
    address: str | None = None,
    preload: Sequence[str] = (),
) -> Executor:
    """An executor of ``kind``: ``local`` (default), ``ray`` or ``inline``.

    ``max_workers`` caps the tasks running at once (default: the CPUs of
    this machine, or of the Ray cluster; always 1 inline). ``address`` is
    the Ray cluster to join (``ray://host:10001``, ``auto``); without it a
    local Ray instance starts, unless Ray is already initialised.
    ``preload`` names modules local workers import as they start, before
    their first task (e.g. ``["loopml.tracking"]``).
    """
    check_choice(kind, max_workers=max_workers, address=address)
    if kind == "local":
        return LocalExecutor(max_workers, preload)
    if kind == "inline":
        return InlineExecutor()
    from loopml.executors._ray import RayExecutor  # Ray is optional and slow to import

    return RayExecutor(max_workers, address)


def check_choice(kind: str, *, max_workers: int | None = None, address: str | None = None) -> None:
    """InvalidArgument unless ``get_executor`` accepts these (checked before any work starts)."""
    if kind not in EXECUTOR_KINDS:
        raise InvalidArgument(f"Unknown executor {kind!r}: use one of {', '.join(EXECUTOR_KINDS)}.")
    if address is not None and kind != "ray":
        raise InvalidArgument(f"address={address!r} is for the ray executor, not {kind!r}.")
    if kind == "inline" and max_workers not in (None, 1):
        raise InvalidArgument("The inline executor runs one task at a time: max_workers=1.")
    check_max_workers(max_workers, 1)
