"""The audit log's rows: a hash-chained append and filtered reads, on the metadata database.

An append is one write transaction: it takes the one ``audit_head`` row (inserted
on first use with ``last_seq=0`` and the genesis hash), locks it (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite already serialises writers with ``BEGIN IMMEDIATE``),
builds the next row from the head's ``last_seq`` and ``last_hash``, inserts it and
moves the head. So several server workers, each with its own store, chain their
entries in one order, and the head always names the last entry committed.

Sequence numbers are assigned here, never by the database (a deleted last row must
not be silently refilled). What goes into a row and how it is hashed is the
caller's business (``loopml.governance.AuditLog``): this module stores and reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import Connection, Select, func, select, update

from loopml.core.errors import StorageError
from loopml.store._database import Database
from loopml.store._governance_models import AUDIT_HEAD, AUDIT_LOG
from loopml.store._migrate import upgrade
from loopml.store._upsert import insert_ignore

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry (and the head's hash of an empty log)."""

HEAD_ID = 1
PAGE_SIZE = 1000

# Column limits of the audit_log table, so callers can fit values before hashing them.
FIELD_LIMITS = {
    "actor": 256,
    "action": 128,
    "object_type": 64,
    "object_id": 512,
    "request_id": 64,
    "source": 128,
}


@dataclass(frozen=True)
class AuditRow:
    """One stored audit entry, exactly as kept: ``summary`` is the JSON text that was hashed."""

    seq: int
    time: int
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: str
    request_id: str
    source: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditHead:
    """The chain's head: the last entry appended and its hash."""

    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class AuditQuery:
    """Which rows to read: a time range ``[since_ms, until_ms)``, an actor, an object.

    ``newest_first`` orders by descending ``seq``; ``before_seq`` and ``after_seq``
    page through the result (pass the last seq of the previous page).
    """

    since_ms: int | None = None
    until_ms: int | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    newest_first: bool = True
    before_seq: int | None = None
    after_seq: int | None = None


Builder = Callable[[int, str], AuditRow]
"""Builds the next row from its ``seq`` and the previous entry's hash (inside the lock)."""


def _row(found: Any) -> AuditRow:
    return AuditRow(
        seq=int(found.seq),
        time=int(found.time),
        actor=found.actor,
        action=found.action,
        object_type=found.object_type,
        object_id=found.object_id,
        summary=found.summary,
        request_id=found.request_id,
        source=found.source,
        prev_hash=found.prev_hash,
        hash=found.hash,
    )


def _select(query: AuditQuery) -> Select[Any]:
    stmt = select(AUDIT_LOG)
    c = AUDIT_LOG.c
    conditions = [
        (query.since_ms, lambda v: c.time >= v),
        (query.until_ms, lambda v: c.time < v),
        (query.actor, lambda v: c.actor == v),
        (query.object_type, lambda v: c.object_type == v),
        (query.object_id, lambda v: c.object_id == v),
        (query.before_seq, lambda v: c.seq < v),
        (query.after_seq, lambda v: c.seq > v),
    ]
    for value, condition in conditions:
        if value is not None:
            stmt = stmt.where(condition(value))
    return stmt.order_by(c.seq.desc() if query.newest_first else c.seq.asc())


def _lock_head(conn: Connection) -> AuditHead:
    insert_ignore(conn, AUDIT_HEAD, [{"id": HEAD_ID, "last_seq": 0, "last_hash": GENESIS_HASH}])
    stmt = select(AUDIT_HEAD).where(AUDIT_HEAD.c.id == HEAD_ID)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = conn.execute(stmt).one()
    return AuditHead(last_seq=int(head.last_seq), last_hash=head.last_hash)


def _check_head(conn: Connection, head: AuditHead) -> None:
    """Refuse to append when the head no longer names the last row (the log was tampered with)."""
    last = conn.execute(select(func.max(AUDIT_LOG.c.seq))).scalar()
    if (last or 0) != head.last_seq:
        raise StorageError(
            f"The audit log cannot be appended to: its head records entry {head.last_seq} but "
            f"the last stored entry is {last or 'none'}. Someone changed the audit tables; run "
            "`loopml audit verify` to see what."
        )


class SqlAuditStore:
    """The audit tables of a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    def append(self, build: Builder) -> AuditRow:
        """Append the row ``build(seq, prev_hash)`` makes, chained after the current head.

        ``build`` runs inside the transaction that holds the head, so it sees the
        final ``seq`` and ``prev_hash``; StorageError if the head and the rows disagree.
        """
        with self.db.write() as conn:
            head = _lock_head(conn)
            _check_head(conn, head)
            row = build(head.last_seq + 1, head.last_hash)
            if row.seq != head.last_seq + 1 or row.prev_hash != head.last_hash:
                raise ValueError("an audit row must carry the seq and prev_hash it was given")
            conn.execute(AUDIT_LOG.insert().values(**asdict(row)))
            conn.execute(
                update(AUDIT_HEAD)
                .where(AUDIT_HEAD.c.id == HEAD_ID)
                .values(last_seq=row.seq, last_hash=row.hash)
            )
            return row

    def head(self) -> AuditHead | None:
        """The head row, or None before the first append (or if someone deleted it)."""
        with self.db.read() as conn:
            found = conn.execute(select(AUDIT_HEAD).where(AUDIT_HEAD.c.id == HEAD_ID)).first()
        if found is None:
            return None
        return AuditHead(last_seq=int(found.last_seq), last_hash=found.last_hash)

    def list(self, query: AuditQuery, limit: int) -> list[AuditRow]:
        """At most ``limit`` rows matching ``query``, in its order."""
        with self.db.read() as conn:
            return [_row(r) for r in conn.execute(_select(query).limit(limit))]

    def iterate(self, query: AuditQuery | None = None, page: int = PAGE_SIZE) -> Iterator[AuditRow]:
        """Every row matching ``query`` in ascending ``seq``, read a page per transaction.

        Rows appended while iterating are included if they sort after the current page.
        """
        base = query or AuditQuery()
        after = base.after_seq
        while True:
            step = replace(base, newest_first=False, after_seq=after)
            rows = self.list(step, page)
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1].seq
