"""Concurrent appends chain into one valid log: threads, and several stores on one database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from audit_world import audit_log_fixture, empty_audit  # noqa: F401 - the fixture

from loopml.core.settings import Settings
from loopml.governance._audit import AuditLog
from loopml.tracking import Client

THREADS = 8
EACH = 15


def _append(log: AuditLog, worker: int) -> None:
    for i in range(EACH):
        log.record(
            actor=f"worker-{worker}",
            action="log_batch",
            object_type="run",
            object_id=f"r{i}",
            summary={"i": i},
        )


def _assert_one_chain(log: AuditLog, total: int) -> None:
    result = log.verify()
    assert result.ok, result.problems
    assert result.checked == total == result.last_seq
    entries = log.list(limit=total)
    assert sorted(e.seq for e in entries) == list(range(1, total + 1))
    by_worker = {e.actor for e in entries}
    assert len(by_worker) == THREADS


def test_threads_sharing_one_log(audit_log: AuditLog) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda w: _append(audit_log, w), range(THREADS)))
    _assert_one_chain(audit_log, THREADS * EACH)


def test_separate_stores_over_one_database(store_uri: str, tmp_path: Path) -> None:
    """Each log has its own engine and pool, as separate server workers do."""
    clients = [
        Client(
            store_uri, settings=Settings(home=tmp_path / f"h{i}"), object_store_uri=str(tmp_path)
        )
        for i in range(2)
    ]
    try:
        empty_audit(clients[0])
        logs = [AuditLog(c) for c in clients]
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda w: _append(logs[w % 2], w), range(THREADS)))
        _assert_one_chain(logs[1], THREADS * EACH)
    finally:
        for c in clients:
            c.close()
