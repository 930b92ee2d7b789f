"""``LocalExecutor``: a pool of worker processes on this machine.

Workers are fresh interpreters (``_process_worker``), started as tasks
arrive, up to ``max_workers``, and reused. Each runs one task at a time, in
its own process group, so a task past its timeout is stopped by killing the
group (with anything the task started) and a replacement starts for the
next task. One dispatcher thread hands pending tasks to idle workers,
collects outcomes and enforces deadlines; callers only touch futures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import TypeVar

from loopml.executors._base import (
    Call,
    Executor,
    ExecutorError,
    WorkerCrashed,
    check_max_workers,
)
from loopml.executors._payload import DONE, STARTED, PackedTask, read_outcome

T = TypeVar("T")


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection
    task: PackedTask | None = field(default=None)

    @classmethod
    def start(cls, preload: tuple[str, ...]) -> _Worker:
        ours, theirs = socket.socketpair()
        fd = theirs.fileno()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "loopml.executors._process_worker", str(fd), *preload],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: a timeout kills what it started
            )
        except OSError as exc:
            ours.close()
            raise ExecutorError(f"Cannot start a worker process: {exc}.") from exc
        finally:
            theirs.close()
        return cls(process, Connection(ours.detach()))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.conn.close()

    def stop(self, grace: float) -> None:
        self.conn.close()  # the worker exits when it sees the socket close
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()


class LocalExecutor(Executor):
    """Runs tasks in up to ``max_workers`` local processes (default: one per CPU).

    ``preload`` names modules each worker imports when it starts, before any
    task: the first task does not wait for them (nor count them in its timeout).
    """

    def __init__(self, max_workers: int | None = None, preload: Sequence[str] = ()) -> None:
        self.max_workers = check_max_workers(max_workers, os.cpu_count() or 1)
        self._preload = tuple(preload)
        self._lock = threading.Lock()
        self._pending: deque[PackedTask] = deque()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._wake_out, self._wake_in = (Connection(s.detach()) for s in socket.socketpair())
        self._thread: threading.Thread | None = None
        self._closed = False
        self._kill = False

    def _submit(self, call: Call[T]) -> Future[T]:
        # call.resources were validated; a local pool has no resource model
        task = PackedTask.of(call)
        with self._lock:
            self._check_open()
            self._pending.append(task)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._dispatch, name="loopml-local-executor", daemon=True
                )
                self._thread.start()
        self._wake()
        return task.future

    def shutdown(self, kill: bool = False) -> None:
        with self._lock:
            self._closed = True
            self._kill = self._kill or kill
            pending = list(self._pending)
            self._pending.clear()
        for task in pending:
            task.future.cancel()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        for worker in self._idle:
            worker.stop(grace=5.0)
        self._idle.clear()

    # -- the dispatcher thread ---------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_in.send_bytes(b"")

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if self._kill:
                    self._kill_busy("the executor was shut down")
                self._assign()
                if self._closed and not self._busy and not self._pending:
                    return
                wait_for = self._next_deadline()
            ready = wait([self._wake_out, *(w.conn for w in self._busy)], wait_for)
            for conn in ready:
                if conn is self._wake_out:
                    with contextlib.suppress(EOFError, OSError):
                        while conn.poll():
                            conn.recv_bytes()
                    continue
                self._receive(next(w for w in self._busy if w.conn is conn))
            self._expire()

    def _assign(self) -> None:
        while self._pending:
            if not self._idle and len(self._busy) >= self.max_workers:
                return
            task = self._pending.popleft()
            if not task.future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            try:
                worker = self._idle.pop() if self._idle else _Worker.start(self._preload)
                worker.conn.send_bytes(task.blob)
            except (ExecutorError, OSError) as exc:
                task.future.set_exception(
                    exc if isinstance(exc, ExecutorError) else ExecutorError(str(exc))
                )
                continue
            worker.task = task
            self._busy.append(worker)

    def _next_deadline(self) -> float | None:
        deadlines = [w.task.deadline for w in self._busy if w.task and w.task.deadline]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _receive(self, worker: _Worker) -> None:
        task = worker.task
        assert task is not None
        try:
            message = worker.conn.recv_bytes()
        except (EOFError, OSError):
            code = worker.process.wait()
            self._busy.remove(worker)
            worker.conn.close()
            task.future.set_exception(WorkerCrashed(_crash_message(task.name, code)))
            return
        if message == STARTED:
            if task.timeout is not None:
                task.deadline = time.monotonic() + task.timeout
            return
        assert message.startswith(DONE)
        self._busy.remove(worker)
        worker.task = None
        with self._lock:
            self._idle.append(worker)
        try:
            task.future.set_result(read_outcome(message[len(DONE) :]))
        except BaseException as exc:
            task.future.set_exception(exc)

    def _expire(self) -> None:
        now = time.monotonic()
        for worker in [w for w in self._busy if w.task and w.task.deadline]:
            task = worker.task
            assert task is not None and task.deadline is not None
            if task.deadline <= now:
                self._busy.remove(worker)
                worker.kill()
                task.future.set_exception(task.timed_out("stopped"))

    def _kill_busy(self, why: str) -> None:
        for worker in self._busy:
            worker.kill()
            if worker.task is not None:
                worker.task.future.set_exception(ExecutorError(f"{worker.task.name}: {why}."))
        self._busy.clear()


def _crash_message(name: str, code: int) -> str:
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return (
        f"The worker process running {name} {how} before the task returned (out of memory, "
        "a crash in native code, or os._exit). Its output above may say why."
    )
