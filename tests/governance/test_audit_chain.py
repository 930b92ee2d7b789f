"""The audit chain on SQLite and PostgreSQL: append, read, verify, and tampering found by seq."""

from __future__ import annotations

import io
import itertools
import json

import pytest
from audit_world import audit_log_fixture, fill, sql  # noqa: F401 - the fixture

from loopml.core.errors import InvalidArgument, StorageError
from loopml.governance._audit import AuditLog
from loopml.governance._audit_chain import entry_hash
from loopml.governance._audit_fields import MAX_SUMMARY_CHARS, canonical_json
from loopml.store._sql_audit import GENESIS_HASH, AuditRow


def test_entries_chain_from_genesis_and_verify(audit_log: AuditLog) -> None:
    assert audit_log.verify().ok and audit_log.verify().checked == 0
    fill(audit_log, 5)
    entries = audit_log.list()
    assert [e.seq for e in entries] == [5, 4, 3, 2, 1]  # newest first
    oldest = entries[-1]
    assert oldest.prev_hash == GENESIS_HASH
    assert (oldest.actor, oldest.action, oldest.object_type) == (
        "alice",
        "set_alias",
        "registered_model",
    )
    assert (oldest.object_id, oldest.request_id, oldest.source) == ("churn@v1", "req-1", "10.0.0.1")
    assert oldest.summary == {"version": 1}
    for newer, older in itertools.pairwise(entries):
        assert newer.prev_hash == older.hash
    result = audit_log.verify()
    assert result.ok and result.checked == 5 and result.problems == []
    assert (result.last_seq, result.last_hash) == (5, entries[0].hash)


def test_filters_and_paging(audit_log: AuditLog) -> None:
    fill(audit_log, 4, actor="alice")
    fill(audit_log, 2, actor="bob")
    assert {e.actor for e in audit_log.list(user="bob")} == {"bob"}
    assert len(audit_log.list(user="bob")) == 2
    assert [
        e.seq for e in audit_log.list(object_type="registered_model", object_id="churn@v2")
    ] == [
        6,
        2,
    ]
    assert len(audit_log.list(object_type="registered_model")) == 6
    assert audit_log.list(object_type="run") == []
    first, second = audit_log.list(limit=3), audit_log.list(limit=3, before_seq=4)
    assert [e.seq for e in first + second] == [6, 5, 4, 3, 2, 1]
    times = [e.time for e in audit_log.list()]
    assert audit_log.list(since_ms=max(times) + 1) == []
    assert len(audit_log.list(since_ms=min(times), until_ms=max(times) + 1)) == 6


def test_export_is_json_lines_oldest_first_and_rehashable(audit_log: AuditLog) -> None:
    fill(audit_log, 3)
    out = io.StringIO()
    assert audit_log.export(out, user="alice") == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    for line in lines:  # an exported copy can be checked without the database
        row = AuditRow(**{**line, "summary": canonical_json(line["summary"])})
        assert entry_hash(row) == line["hash"]


def test_secrets_never_stored_and_summaries_capped(audit_log: AuditLog) -> None:
    entry = audit_log.record(
        actor="alice",
        action="create_token",
        object_type="token",
        object_id="t1",
        summary={
            "password": "hunter2",
            "Authorization": "Basic YWxpY2U6aHVudGVyMg==",
            "nested": {"client_secret": "s", "api-key": "k", "token_id": "t1"},
            "note": "used lmt_abc123_SECRETPART and Bearer eyJhbGciOi",
        },
    )
    stored = json.dumps(entry.summary)
    for secret in ("hunter2", "YWxpY2U6aHVudGVyMg", "SECRETPART", "eyJhbGciOi"):
        assert secret not in stored
    assert entry.summary["nested"]["token_id"] == "t1"  # a token's public id is kept
    assert entry.summary["password"] == "[redacted]"
    big = audit_log.record(
        actor="a", action="b", object_type="c", object_id="d", summary={"x": "é" * 20_000}
    )
    assert big.summary["_truncated"] is True
    assert len(canonical_json(big.summary)) <= MAX_SUMMARY_CHARS
    assert audit_log.verify().ok


def test_oversized_fields_are_cut_to_fit_the_columns(audit_log: AuditLog) -> None:
    entry = audit_log.record(
        actor="x" * 1000, action="a\x00b", object_type="t" * 100, object_id="i" * 2000
    )
    assert (len(entry.actor), len(entry.object_type), len(entry.object_id)) == (256, 64, 512)
    assert "\x00" not in entry.action
    assert audit_log.verify().ok


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda log: log.list(limit=0), "limit must be between 1"),
        (lambda log: log.list(since_ms=10, until_ms=5), "since' must be before 'until"),
        (lambda log: log.list(object_id="x"), "needs its object type"),
        (lambda log: log.list(since_ms="yesterday"), "since_ms must be an integer"),
        (
            lambda log: log.record(
                actor="a", action="b", object_type="c", object_id="d", summary=["no"]
            ),
            "is a JSON object",
        ),
    ],
)
def test_bad_input_is_refused_clearly(audit_log: AuditLog, call: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call(audit_log)  # type: ignore[operator]


def _problems(log: AuditLog) -> list[str]:
    result = log.verify()
    assert not result.ok
    return result.problems


def test_an_edited_summary_is_found_at_its_seq(audit_log: AuditLog) -> None:
    fill(audit_log, 5)
    sql(audit_log, "UPDATE audit_log SET summary = :s WHERE seq = 3", s='{"version":99}')
    problems = _problems(audit_log)
    assert len(problems) == 1
    assert problems[0].startswith("Entry 3 was altered")


def test_a_deleted_middle_entry_is_found(audit_log: AuditLog) -> None:
    fill(audit_log, 5)
    sql(audit_log, "DELETE FROM audit_log WHERE seq = 3")
    assert _problems(audit_log) == [
        "Entry 3 is missing (between entry 2 and entry 4: they were deleted)."
    ]


def test_a_deleted_last_entry_is_found_against_the_head(audit_log: AuditLog) -> None:
    fill(audit_log, 5)
    sql(audit_log, "DELETE FROM audit_log WHERE seq = 5")
    (problem,) = _problems(audit_log)
    assert "ends at entry 4" in problem and "entry 5 is missing" in problem
    with pytest.raises(StorageError, match="head records entry 5"):
        fill(audit_log, 1)  # nothing is chained onto a damaged log


def test_deleted_first_entries_are_found(audit_log: AuditLog) -> None:
    fill(audit_log, 4)
    sql(audit_log, "DELETE FROM audit_log WHERE seq <= 2")
    assert _problems(audit_log) == [
        "Entries 1 to 2 are missing (the start of the log was deleted)."
    ]


def test_reordered_entries_are_found(audit_log: AuditLog) -> None:
    fill(audit_log, 5)
    sql(audit_log, "UPDATE audit_log SET seq = 100 WHERE seq = 2")
    sql(audit_log, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    sql(audit_log, "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    problems = _problems(audit_log)
    assert any(p.startswith("Entry 2 was altered") for p in problems)
    assert any(p.startswith("Entry 3 was altered") for p in problems)
    assert any(p.startswith("Entry 4 does not follow entry 3") for p in problems)
    assert not any(p.startswith(("Entry 1 ", "Entry 5 ")) for p in problems)


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(audit_log: AuditLog) -> None:
    fill(audit_log, 5)
    (row,) = [e for e in audit_log.list() if e.seq == 3]
    forged = AuditRow(
        **{
            **row.to_dict(),
            "actor": "mallory",
            "summary": canonical_json(row.summary),
            "hash": "",
        }
    )
    sql(
        audit_log,
        "UPDATE audit_log SET actor = 'mallory', hash = :h WHERE seq = 3",
        h=entry_hash(forged),
    )
    assert _problems(audit_log) == [
        "Entry 4 does not follow entry 3: its prev_hash is not the hash of entry 3 (entry 3 "
        "was rewritten, or entries were deleted, inserted or reordered here)."
    ]


def test_an_edited_or_deleted_head_is_found(audit_log: AuditLog) -> None:
    fill(audit_log, 3)
    sql(audit_log, "UPDATE audit_head SET last_hash = :h", h="f" * 64)
    (problem,) = _problems(audit_log)
    assert "last entry (3) does not match the chain head" in problem
    sql(audit_log, "DELETE FROM audit_head")
    (problem,) = _problems(audit_log)
    assert "head (table audit_head) is missing" in problem
    with pytest.raises(StorageError, match="cannot be appended"):
        fill(audit_log, 1)
    sql(audit_log, "DELETE FROM audit_log")
    assert audit_log.verify().ok  # an empty log with no head is a new log


def test_every_entry_deleted_is_found(audit_log: AuditLog) -> None:
    fill(audit_log, 2)
    sql(audit_log, "DELETE FROM audit_log")
    assert _problems(audit_log) == [
        "The log is empty but its head records entry 2: every entry was deleted."
    ]
