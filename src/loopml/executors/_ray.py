"""``RayExecutor``: tasks as Ray tasks, on a local Ray or a cluster.

``ray.init(address=...)`` is called unless Ray is already initialised in
this process (``None`` starts a local instance, ``"auto"`` joins the local
cluster, ``ray://host:10001`` a remote one); an instance this executor
started is shut down with it. Calls travel as the same packed bytes as on
the local pool, so a task behaves the same on both. Ray's own retries are
off (callers decide what to retry). At most ``max_workers`` tasks are handed
to Ray at once (default: the cluster's CPUs); a task's timeout counts from
that moment, and past it the task is cancelled with ``force=True`` (its
worker is killed).

Resources: ``cpu``/``num_cpus``, ``gpu``/``num_gpus``, ``memory`` (bytes)
and any custom Ray resource by name; each task takes 1 CPU unless told.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loopml.core.errors import InvalidArgument
from loopml.executors._base import (
    Call,
    Executor,
    ExecutorError,
    WorkerCrashed,
    check_max_workers,
)
from loopml.executors._payload import PackedTask, read_outcome, run_call

T = TypeVar("T")

_ALIASES = {"cpu": "num_cpus", "num_cpus": "num_cpus", "gpu": "num_gpus", "num_gpus": "num_gpus"}


def run_remote(blob: bytes) -> bytes:
    """The body of every Ray task: run the packed call (no chdir: the node may differ)."""
    return run_call(blob, chdir=False)


@dataclass(eq=False)
class _Task(PackedTask):
    """A packed call with its Ray options, and once launched its object ref."""

    options: dict[str, Any] = field(default_factory=dict)
    ref: Any = None
    outcome: Future[Any] | None = None


def ray_options(resources: Mapping[str, float]) -> dict[str, Any]:
    """Ray task options for loopml's resource names."""
    options: dict[str, Any] = {"num_cpus": 1, "max_retries": 0}
    custom: dict[str, float] = {}
    for name, amount in resources.items():
        key = _ALIASES.get(name.lower())
        if key is not None:
            options[key] = amount
        elif name.lower() == "memory":
            options["memory"] = int(amount)
        else:
            custom[name] = amount
    if custom:
        options["resources"] = custom
    return options


class RayExecutor(Executor):
    """Runs tasks on Ray; see the module docstring for addresses and resources."""

    def __init__(self, max_workers: int | None = None, address: str | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise InvalidArgument("The ray executor needs Ray: pip install 'loopml[ray]'.") from exc
        self._ray = ray
        self._owns_ray = False
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False if address is None else None)
            except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError
                raise ExecutorError(
                    f"Cannot start or reach Ray at {address or 'a new local instance'}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            self._owns_ray = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.max_workers = check_max_workers(max_workers, cpus)
        self._remote = ray.remote(run_remote)
        self._cond = threading.Condition()
        self._pending: deque[_Task] = deque()
        self._running: list[_Task] = []
        self._closed = False
        self._kill = False
        self._thread = threading.Thread(target=self._manage, name="loopml-ray", daemon=True)
        self._thread.start()

    def _submit(self, call: Call[T]) -> Future[T]:
        task = _Task.of(call)
        task.options = ray_options(call.resources)
        with self._cond:
            self._check_open()
            self._pending.append(task)
            self._cond.notify_all()
        return task.future

    def shutdown(self, kill: bool = False) -> None:
        with self._cond:
            self._closed = True
            self._kill = self._kill or kill
            pending = list(self._pending)
            self._pending.clear()
            self._cond.notify_all()
        for task in pending:
            task.future.cancel()
        if self._thread is not threading.current_thread():
            self._thread.join()
        if self._owns_ray:
            self._ray.shutdown()

    # -- the manager thread --------------------------------------------------------------
    def _manage(self) -> None:
        with self._cond:
            while True:
                if self._kill:
                    for task in self._running:
                        self._stop(task, ExecutorError(f"{task.name}: the executor was shut down."))
                    self._running.clear()
                self._collect()
                self._expire()
                self._launch()
                if self._closed and not self._running and not self._pending:
                    return
                deadlines = [t.deadline for t in self._running if t.deadline is not None]
                wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                self._cond.wait(wait)

    def _launch(self) -> None:
        while self._pending and len(self._running) < self.max_workers:
            task = self._pending.popleft()
            if not task.future.set_running_or_notify_cancel():
                continue
            try:
                task.ref = self._remote.options(**task.options).remote(task.blob)
            except Exception as exc:  # bad options (e.g. more GPUs than the cluster has)
                task.future.set_exception(
                    ExecutorError(f"Ray refused {task.name}: {type(exc).__name__}: {exc}")
                )
                continue
            if task.timeout is not None:
                task.deadline = time.monotonic() + task.timeout
            task.outcome = task.ref.future()
            task.outcome.add_done_callback(self._notify)
            self._running.append(task)

    def _notify(self, _: Future[Any]) -> None:
        with self._cond:
            self._cond.notify_all()

    def _collect(self) -> None:
        for task in [t for t in self._running if t.outcome is not None and t.outcome.done()]:
            self._running.remove(task)
            try:
                blob = task.outcome.result() if task.outcome else b""
            except self._ray.exceptions.WorkerCrashedError as exc:
                task.future.set_exception(
                    WorkerCrashed(f"The Ray worker running {task.name} died: {exc}")
                )
                continue
            except Exception as exc:
                task.future.set_exception(
                    ExecutorError(f"Ray could not run {task.name}: {type(exc).__name__}: {exc}")
                )
                continue
            try:
                task.future.set_result(read_outcome(blob))
            except BaseException as exc:
                task.future.set_exception(exc)

    def _expire(self) -> None:
        now = time.monotonic()
        for task in [t for t in self._running if t.deadline is not None and t.deadline <= now]:
            self._running.remove(task)
            self._stop(task, task.timed_out("cancelled on Ray"))

    def _stop(self, task: _Task, error: ExecutorError) -> None:
        with contextlib.suppress(Exception):  # already finished or gone: the error stands
            self._ray.cancel(task.ref, force=True)
        if not task.future.done():
            task.future.set_exception(error)
