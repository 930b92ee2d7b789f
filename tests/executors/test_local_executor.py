"""The local process pool: results, errors, parallelism, timeouts, crashes, bad input."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import executors_support as tasks
import pytest

from loopml.core.errors import InvalidArgument, InvalidState
from loopml.executors import (
    Executor,
    ExecutorError,
    LocalExecutor,
    RemoteTraceback,
    StepTimeout,
    WorkerCrashed,
    get_executor,
)


@pytest.fixture
def pool() -> Iterator[Executor]:
    with get_executor("local", max_workers=2) as executor:
        yield executor


def test_results_come_back_in_their_futures(pool: Executor) -> None:
    futures = [pool.submit(tasks.square, i) for i in range(5)]
    assert [f.result(timeout=60) for f in futures] == [0, 1, 4, 9, 16]
    assert isinstance(pool, Executor) and pool.max_workers == 2


def test_a_task_error_is_raised_with_the_worker_traceback(pool: Executor) -> None:
    with pytest.raises(ValueError, match="bad input") as caught:
        pool.submit(tasks.fail, "bad input").result(timeout=60)
    cause = caught.value.__cause__
    assert isinstance(cause, RemoteTraceback) and "executors_support.py" in cause.text


def test_independent_tasks_run_at_the_same_time(pool: Executor, tmp_path: Path) -> None:
    # Each task waits for the other's file: they can only both finish in parallel.
    first = pool.submit(tasks.meet, str(tmp_path), "a", "b")
    second = pool.submit(tasks.meet, str(tmp_path), "b", "a")
    assert (first.result(timeout=60), second.result(timeout=60)) == ("a", "b")
    assert (tmp_path / "a").read_text() != (tmp_path / "b").read_text()  # two processes


def test_a_task_past_its_timeout_is_killed_and_the_pool_goes_on(
    pool: Executor, tmp_path: Path
) -> None:
    marker = tmp_path / "child.pid"
    hung = pool.submit(tasks.spawn_sleeper, str(marker), timeout=1.0)
    with pytest.raises(StepTimeout, match="timeout of 1 s"):
        hung.result(timeout=60)
    child = int(marker.read_text())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)  # the task's own children went with it (its process group)
    assert pool.submit(tasks.square, 7).result(timeout=60) == 49


def test_the_timeout_counts_from_the_start_of_the_task(tmp_path: Path) -> None:
    with get_executor("local", max_workers=1) as executor:
        first = executor.submit(tasks.sleep_then, 1.0, "first")
        queued = executor.submit(tasks.sleep_then, 0.0, "queued", timeout=0.9)
        assert (first.result(timeout=60), queued.result(timeout=60)) == ("first", "queued")


def test_a_crashed_worker_is_a_clear_error_and_is_replaced(pool: Executor) -> None:
    with pytest.raises(WorkerCrashed, match="exited with code 3"):
        pool.submit(tasks.die, 3).result(timeout=60)
    assert pool.submit(tasks.square, 3).result(timeout=60) == 9


def test_closures_and_lambdas_travel_by_value(pool: Executor) -> None:
    offset = 5
    assert pool.submit(lambda x: x + offset, 1).result(timeout=60) == 6


def test_workers_see_the_submitters_folder_and_import_path(
    pool: Executor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cwd, path = pool.submit(tasks.where).result(timeout=60)
    assert Path(cwd).resolve() == tmp_path.resolve()
    assert str(Path(tasks.__file__).parent) in path


def test_what_cannot_travel_is_a_clear_error(pool: Executor) -> None:
    lock = tasks.returns_lock()
    with pytest.raises(InvalidArgument, match="Cannot send"):
        pool.submit(tasks.square, lock)
    with pytest.raises(ExecutorError, match="cannot be sent back"):
        pool.submit(tasks.returns_lock).result(timeout=60)
    with pytest.raises(ExecutorError, match="Unpicklable: holds a lock"):
        pool.submit(tasks.raise_unpicklable).result(timeout=60)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"resources": {"cpu": -1}}, "resource"),
        ({"resources": ["cpu"]}, "resources"),
    ],
)
def test_bad_task_options_are_refused(
    pool: Executor, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        pool.submit(tasks.square, 2, **kwargs)  # type: ignore[arg-type]


def test_bad_executor_choices_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="Unknown executor 'dask'"):
        get_executor("dask")
    with pytest.raises(InvalidArgument, match="max_workers"):
        get_executor("local", max_workers=0)
    with pytest.raises(InvalidArgument, match="for the ray executor"):
        get_executor("local", address="ray://x:1")
    with pytest.raises(InvalidArgument, match="max_workers=1"):
        get_executor("inline", max_workers=4)


def test_shutdown_cancels_what_waits_and_refuses_new_tasks() -> None:
    executor = LocalExecutor(max_workers=1)
    running = executor.submit(tasks.sleep_then, 0.5, "done")
    waiting = executor.submit(tasks.square, 2)
    while not running.running():
        time.sleep(0.01)
    executor.shutdown()
    assert running.result(timeout=60) == "done"  # a running task finishes
    assert waiting.cancelled()
    with pytest.raises(InvalidState, match="shut down"):
        executor.submit(tasks.square, 1)


def test_shutdown_with_kill_stops_running_tasks() -> None:
    executor = LocalExecutor(max_workers=1)
    hung = executor.submit(tasks.sleep_then, 60, "never")
    while not hung.running():
        time.sleep(0.01)
    executor.shutdown(kill=True)
    with pytest.raises(ExecutorError, match="shut down"):
        hung.result(timeout=60)


def test_inline_runs_in_this_process_and_judges_timeouts_on_return() -> None:
    with get_executor("inline") as executor:
        assert executor.submit(os.getpid).result() == os.getpid()
        with pytest.raises(ValueError, match="x"):
            executor.submit(tasks.fail, "x").result()
        late = executor.submit(tasks.sleep_then, 0.3, "late", timeout=0.1)
        with pytest.raises(StepTimeout, match="cannot stop a task"):
            late.result()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
