"""32 clients logging to one server at once, on SQLite and on PostgreSQL.

Each client is a thread with its own HTTP connections, its own batcher and
spool (as 32 SDK processes would have), logging many small batches. Every
point must arrive exactly once, and the server must never report
"database is locked".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.store import Metric, Param, RunTag
from loopml.tracking import Client
from loopml.tracking._batcher import LogBatcher
from loopml.tracking._rest import RestTrackingStore
from loopml.tracking._spool import Spool, spool_directory
from server.live_server import LiveServer, live_server

CLIENTS = 32
POINTS = 400


@pytest.fixture(params=["sqlite", "postgres"])
def shared_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    uri = None if request.param == "sqlite" else request.getfixturevalue("postgres_uri")
    with live_server(tmp_path / "server", tracking_uri=uri) as running:
        yield running


def _client(url: str, home: Path, run_id: str, index: int, errors: list[BaseException]) -> None:
    try:
        store = RestTrackingStore(url)  # its own connection pool
        batcher = LogBatcher(
            store,
            max_items=50,
            interval_seconds=0.02,
            spool=Spool(spool_directory(home / str(index), url), url),
        )
        batcher.add(run_id, params=[Param("index", str(index))])
        for step in range(POINTS):
            batcher.add(run_id, metrics=[Metric("value", float(step), 1, step)])
            if step % 100 == 0:
                batcher.add(run_id, tags=[RunTag("progress", str(step))])
        batcher.close()
        store.update_run(run_id, status="FINISHED", end_time=2)
        store.close()
    except BaseException as exc:
        errors.append(exc)


def test_32_clients_lose_and_duplicate_nothing(shared_server: LiveServer, tmp_path: Path) -> None:
    setup = Client(shared_server.url)
    experiment_id = setup.create_experiment("concurrent")
    run_ids = [setup.create_run(experiment_id).info.run_id for _ in range(CLIENTS)]
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_client, args=(shared_server.url, tmp_path, rid, i, errors))
        for i, rid in enumerate(run_ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert errors == []
    runs = setup.search_runs([experiment_id], max_results=100)
    assert len(runs) == CLIENTS
    for index, run_id in enumerate(run_ids):
        run = setup.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.params == {"index": str(index)}
        assert run.data.tags["progress"] == str((POINTS - 1) // 100 * 100)
        history = setup.get_metric_history(run_id, "value")
        assert [m.step for m in history] == list(range(POINTS))
    assert "database is locked" not in (shared_server.home / "server.log").read_text()
