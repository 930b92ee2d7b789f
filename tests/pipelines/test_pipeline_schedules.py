"""Schedules and the server's scheduler: cron slots, the missed-run policy, one winner per slot."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pipelines_support as support
import pytest
from fastapi import FastAPI

from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, InvalidArgument
from loopml.core.settings import Settings
from loopml.pipelines import MissedRuns, Schedule, Schedules, get_pipeline_run
from loopml.pipelines._scheduler import Scheduler
from loopml.pipelines._schedules import decide, next_time
from loopml.server import app_from_settings, create_app
from loopml.store import SqlPipelineStore, SqlTrackingStore
from loopml.tracking import Client

HERE = Path(support.__file__).parent
DAY = 86_400_000
T0 = 1_704_074_400_000  # 2024-01-01 02:00:00 UTC


@pytest.fixture
def sqlite_client(tmp_path: Path, settings: Settings) -> Iterator[Client]:
    tracking = Client(f"sqlite:///{tmp_path / 'loopml.db'}", settings=settings)
    yield tracking
    tracking.close()


def _store(client: Client) -> SqlPipelineStore:
    assert isinstance(client.store, SqlTrackingStore)
    return SqlPipelineStore(client.store.db)


def _due(client: Client, marks: Path, missed: str, next_run_time: int) -> Schedule:
    """A schedule of the quick support pipeline whose next slot is ``next_run_time``."""
    return _store(client).create_schedule(
        "nightly", target="pipelines_support:uncached", cron="0 3 * * *",
        params={"marks": str(marks)}, missed=missed, executor="inline", workdir=str(HERE),
        next_run_time=next_run_time,
    )  # fmt: skip


def _wait_for_run(client: Client, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_id = _store(client).get_schedule("nightly").last_run_id
        if run_id and get_pipeline_run(run_id, client).status == "FINISHED":
            return run_id
        time.sleep(0.2)
    log = client.settings.home / "schedules" / "nightly.log"
    raise AssertionError(f"no finished run: {log.read_text() if log.exists() else ''}")


def test_creating_a_schedule_checks_everything(sqlite_client: Client, tmp_path: Path) -> None:
    schedules = Schedules(sqlite_client)
    created = schedules.create(
        "nightly", target="flows:training", cron=" 0 3 * * * ", params={"alpha": 0.5},
        workdir=tmp_path,
    )  # fmt: skip
    assert (created.cron, created.params, created.missed, created.executor) == (
        "0 3 * * *", {"alpha": "0.5"}, "skip", "local"
    )  # fmt: skip
    assert created.next_run_time == next_time("0 3 * * *", created.created_time)
    assert created.next_run_time % DAY == 3 * 3_600_000  # 03:00 UTC
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "list"}, "is a command"),
        ({"name": "bad/name"}, "Invalid schedule name"),
        ({"cron": "at three"}, "Invalid cron expression"),
        ({"cron": "0 0 31 2 *"}, "never comes round"),
        ({"workdir": "bad\x00dir"}, "Invalid workdir"),
        ({"params": {"n": "a\x00b"}}, "no NUL"),
        ({"target": "no-colon"}, "Invalid target"),
        ({"missed": "all"}, "skip' or 'run-once"),
        ({"executor": "dask"}, "Unknown executor"),
        ({"params": {"not valid": 1}}, "Invalid parameter name"),
    ]
    for kwargs, message in cases:
        arguments: dict[str, Any] = {"name": "x", "target": "flows:t", "cron": "0 3 * * *"}
        arguments.update(kwargs)
        with pytest.raises(InvalidArgument, match=message):
            schedules.create(arguments.pop("name"), **arguments)
    with pytest.raises(AlreadyExists):
        schedules.create("nightly", target="flows:t", cron="* * * * *")
    assert [s.name for s in schedules.list()] == ["nightly"]


def test_the_missed_run_policy_after_a_downtime() -> None:
    def schedule(missed: str) -> Schedule:
        return Schedule("s", "m:p", "0 3 * * *", {}, missed, "local", "/", T0 + 3_600_000,
                        None, None, 0, 0)  # fmt: skip

    on_time = decide(schedule("skip"), T0 + 3_600_000 + 5_000, grace_ms=60_000)
    assert (on_time.fire, on_time.missed, on_time.next_run_time) == (
        True, False, T0 + 3_600_000 + DAY
    )  # fmt: skip
    three_days_later = T0 + 3 * DAY
    skipped = decide(schedule(MissedRuns.SKIP), three_days_later, grace_ms=60_000)
    assert (skipped.fire, skipped.missed) == (False, True)
    assert skipped.next_run_time == T0 + 3_600_000 + 3 * DAY  # the next future slot only
    caught_up = decide(schedule(MissedRuns.RUN_ONCE), three_days_later, grace_ms=60_000)
    assert (caught_up.fire, caught_up.missed) == (True, True)  # once, not three times
    assert caught_up.next_run_time == skipped.next_run_time


def test_a_due_schedule_runs_and_records_its_run(sqlite_client: Client, marks: Path) -> None:
    _due(sqlite_client, marks, "skip", now_ms() - 1000)
    scheduler = Scheduler(sqlite_client, interval=60)
    (firing,) = scheduler.tick()
    assert firing.fired and not firing.missed and firing.pid
    run_id = _wait_for_run(sqlite_client)
    scheduler.join()
    found = _store(sqlite_client).get_schedule("nightly")
    assert found.next_run_time > now_ms() and found.last_fire_time is not None
    run = get_pipeline_run(run_id, sqlite_client)
    assert run.pipeline == "uncached" and run.params["marks"] == str(marks)
    assert support.runs_of(marks, "always") == 1
    assert scheduler.tick() == []  # nothing is due any more


def test_after_a_downtime_skip_waits_and_run_once_runs_once(
    sqlite_client: Client, marks: Path
) -> None:
    store = _store(sqlite_client)
    _due(sqlite_client, marks, "skip", now_ms() - 3 * DAY)
    scheduler = Scheduler(sqlite_client, interval=60)
    (skipped,) = scheduler.tick()
    assert (skipped.fired, skipped.missed) == (False, True)
    assert store.get_schedule("nightly").last_run_id is None
    store.delete_schedule("nightly")
    _due(sqlite_client, marks, "run-once", now_ms() - 3 * DAY)
    (caught_up,) = scheduler.tick()
    assert (caught_up.fired, caught_up.missed) == (True, True)
    assert scheduler.tick() == []
    _wait_for_run(sqlite_client)
    scheduler.join()
    assert support.runs_of(marks, "always") == 1  # one catch-up run for three missed slots


def test_schedulers_of_several_workers_run_a_slot_once(
    tmp_path: Path, settings: Settings, marks: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    clients = [Client(uri, settings=settings) for _ in range(3)]  # one per server worker
    _due(clients[0], marks, "skip", now_ms() - 1000)
    schedulers = [Scheduler(c, interval=60) for c in clients]
    firings: list[object] = []
    barrier = threading.Barrier(len(schedulers))

    def tick(scheduler: Scheduler) -> None:
        barrier.wait()
        firings.extend(scheduler.tick())

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(firings) == 1
    _wait_for_run(clients[0])
    for scheduler in schedulers:
        scheduler.join()
    assert support.runs_of(marks, "always") == 1
    for client in clients:
        client.close()


def test_the_server_runs_its_scheduler_only_when_asked(
    sqlite_client: Client, marks: Path, tmp_path: Path
) -> None:
    def app(**options: object) -> FastAPI:
        settings = Settings(home=tmp_path / "home", tracking_uri=sqlite_client.tracking_uri)
        return app_from_settings(settings.model_copy(update=options))

    async def serve(served: FastAPI) -> Scheduler | None:
        async with served.router.lifespan_context(served):  # what uvicorn runs
            scheduler = getattr(served.state, "scheduler", None)
            if scheduler is not None:
                await asyncio.to_thread(_wait_for_run, sqlite_client)
        return scheduler

    assert not hasattr(create_app(sqlite_client).state, "scheduler")
    assert asyncio.run(serve(app())) is None  # off unless asked
    _due(sqlite_client, marks, "skip", now_ms() - 1000)
    scheduler = asyncio.run(serve(app(scheduler_enabled=True, scheduler_interval_seconds=0.1)))
    assert scheduler is not None and not scheduler.running  # stopped with the app
    scheduler.join()
    assert support.runs_of(marks, "always") == 1


def test_the_scheduler_needs_the_database() -> None:
    with pytest.raises(InvalidArgument, match="beside the metadata database"):
        Scheduler(Client("http://127.0.0.1:9"))
