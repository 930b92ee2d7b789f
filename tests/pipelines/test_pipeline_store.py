"""The pipeline store (schedules, the step cache) on SQLite and PostgreSQL, and over a server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pipelines_support as support
import pytest

import loopml as lm
from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.pipelines import Schedules
from loopml.pipelines._cache import open_pipeline_store
from loopml.store import MAX_CACHE_LOOKUP, SqlPipelineStore, SqlTrackingStore, StepCacheEntry
from loopml.tracking import Client
from server.live_server import LiveServer, live_server

KEY = "a" * 64


@pytest.fixture
def sql(client: Client) -> SqlPipelineStore:
    assert isinstance(client.store, SqlTrackingStore)
    return SqlPipelineStore(client.store.db)


def _schedule(store: SqlPipelineStore, name: str, next_run_time: int) -> None:
    store.create_schedule(
        name, target="m:p", cron="0 3 * * *", params={"n": "1"}, missed="skip",
        executor="local", workdir="/tmp", next_run_time=next_run_time,
    )  # fmt: skip


def test_schedules_are_created_listed_claimed_and_deleted(sql: SqlPipelineStore) -> None:
    _schedule(sql, "nightly", 1000)
    _schedule(sql, "hourly", 5000)
    with pytest.raises(AlreadyExists, match="schedule remove nightly"):
        _schedule(sql, "nightly", 1000)
    found = sql.get_schedule("nightly")
    assert (found.params, found.next_run_time, found.last_run_id) == ({"n": "1"}, 1000, None)
    assert [s.name for s in sql.list_schedules()] == ["hourly", "nightly"]
    assert [s.name for s in sql.due_schedules(2000)] == ["nightly"]
    assert sql.claim_schedule("nightly", 1000, 9000, fired=True)
    assert not sql.claim_schedule("nightly", 1000, 9500, fired=True)  # taken already
    claimed = sql.get_schedule("nightly")
    assert claimed.next_run_time == 9000 and claimed.last_fire_time is not None
    sql.record_schedule_run("nightly", "f" * 32)
    assert sql.get_schedule("nightly").last_run_id == "f" * 32
    sql.delete_schedule("nightly")
    with pytest.raises(NotFound, match="schedule list"):
        sql.get_schedule("nightly")
    with pytest.raises(NotFound):
        sql.delete_schedule("nightly")


def test_concurrent_claims_of_one_slot_have_one_winner(sql: SqlPipelineStore) -> None:
    _schedule(sql, "contended", 1000)
    wins: list[bool] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        wins.append(sql.claim_schedule("contended", 1000, 2000, fired=True))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False, False, False, True]


def test_the_cache_answers_only_finished_active_runs(client: Client, sql: SqlPipelineStore) -> None:
    experiment = client.create_experiment("cache")
    done = client.create_run(experiment).info.run_id
    client.set_terminated(done, "FINISHED")
    running = client.create_run(experiment).info.run_id
    sql.put_step_cache(StepCacheEntry(KEY, done, "load", '{"output": {}}'))
    sql.put_step_cache(StepCacheEntry("b" * 64, running, "load", "{}"))
    found = sql.lookup_step_cache([KEY, "b" * 64, "c" * 64])
    assert list(found) == [KEY] and found[KEY].run_id == done and found[KEY].step == "load"
    sql.put_step_cache(StepCacheEntry(KEY, done, "load", '{"newer": {}}'))  # replaces
    assert sql.lookup_step_cache([KEY])[KEY].outputs == '{"newer": {}}'
    client.delete_run(done)
    assert sql.lookup_step_cache([KEY]) == {}
    client.gc()  # purging the run removes its entry with it
    client.restore_run(running)
    client.set_terminated(running, "FINISHED")
    assert list(sql.lookup_step_cache([KEY, "b" * 64])) == ["b" * 64]
    with pytest.raises(NotFound, match="needs its run"):
        sql.put_step_cache(StepCacheEntry(KEY, "0" * 32, "load", "{}"))
    with pytest.raises(InvalidArgument, match="at most"):
        sql.lookup_step_cache(["d" * 64] * (MAX_CACHE_LOOKUP + 1))
    assert sql.lookup_step_cache([]) == {}


# -- through a server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipelines_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("pipelines-server")) as running:
        yield running


@pytest.fixture
def remote(pipelines_server: LiveServer, tmp_path: Path) -> Iterator[Client]:
    remote = Client(pipelines_server.url, settings=Settings(home=tmp_path / "home"))
    yield remote
    remote.close()


def test_schedules_through_a_server(remote: Client, tmp_path: Path) -> None:
    schedules = Schedules(remote)
    created = schedules.create(
        "remote-nightly", target="flows:train", cron="0 3 * * *", params={"n": 5},
        missed="run-once", workdir=tmp_path,
    )  # fmt: skip
    assert created.params == {"n": "5"} and created.next_run_time > now_ms()
    assert created.workdir == str(tmp_path.resolve())
    assert schedules.get("remote-nightly") == created
    assert "remote-nightly" in [s.name for s in schedules.list()]
    with pytest.raises(AlreadyExists):
        schedules.create("remote-nightly", target="flows:train", cron="0 3 * * *")
    with pytest.raises(InvalidArgument, match="cron"):
        schedules.create("other", target="flows:train", cron="every day")
    schedules.remove("remote-nightly")
    with pytest.raises(NotFound):
        schedules.remove("remote-nightly")
    store = open_pipeline_store(remote)
    with pytest.raises(InvalidArgument, match="cache key"):
        store.put_step_cache(StepCacheEntry("nothex", "0" * 32, "s", "{}"))
    with pytest.raises(NotFound):
        store.put_step_cache(StepCacheEntry(KEY, "0" * 32, "s", "{}"))


def test_a_pipeline_against_a_server_caches_its_steps_there(
    pipelines_server: LiveServer, tmp_path: Path, marks: Path
) -> None:
    lm.set_tracking_uri(pipelines_server.url)
    try:
        first = support.training.run(marks=str(marks), executor="inline")
        second = support.training.run(marks=str(marks), executor="inline")
    finally:
        lm.tracking.get_client().close()
        lm.set_tracking_uri(f"sqlite:///{tmp_path / 'unused.db'}")
    assert first.status == second.status == "FINISHED"
    assert all(s.cache_hit for s in second.steps.values())
    assert second.steps["evaluate"].outputs == first.steps["evaluate"].outputs
    assert support.runs_of(marks, "fit") == 1
