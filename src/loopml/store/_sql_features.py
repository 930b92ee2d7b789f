"""The SQL feature metadata store, on the tracking store's own database.

Definitions are append-only rows keyed (kind, name, version). An apply runs
in one write transaction; on PostgreSQL it first takes a transaction-scoped
advisory lock (SQLite writers are serialised already), then runs the
caller's checks, so two concurrent applies are checked and numbered one
after the other instead of colliding or both passing on the same state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, func, select, text

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.store._database import Database
from loopml.store._feature_base import FeatureStoreBackend, missing_definition
from loopml.store._migrate import upgrade
from loopml.store._models import FEATURE_DEFINITIONS, FEATURE_MATERIALIZATIONS
from loopml.store.feature_records import (
    FeatureMaterialization,
    FeatureRecord,
    NewFeatureDefinition,
)

_PG_APPLY_LOCK_KEY = 7_474_214  # arbitrary, constant: "loopml feature apply"


def _record(row: Any) -> FeatureRecord:
    return FeatureRecord(
        kind=row.kind,
        name=row.name,
        version=row.version,
        spec=json.loads(row.spec),
        digest=row.digest,
        created_time=row.created_time,
    )


def _materialization(row: Any) -> FeatureMaterialization:
    return FeatureMaterialization(
        view=row.view,
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        rows=row.rows,
        finished_time=row.finished_time,
    )


def _newest(conn: Connection, kind: str, name: str) -> FeatureRecord | None:
    t = FEATURE_DEFINITIONS.c
    row = conn.execute(
        select(FEATURE_DEFINITIONS)
        .where(t.kind == kind, t.name == name)
        .order_by(t.version.desc())
        .limit(1)
    ).first()
    return None if row is None else _record(row)


class SqlFeatureStore(FeatureStoreBackend):
    """A ``FeatureStoreBackend`` on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    # -- definitions ------------------------------------------------------------------
    def put_definitions(
        self, plan: Callable[[], Sequence[NewFeatureDefinition]]
    ) -> list[tuple[FeatureRecord, bool]]:
        now = now_ms()
        done: list[tuple[FeatureRecord, bool]] = []
        with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_APPLY_LOCK_KEY}
                )
            # Checked under the lock: reads on other connections see every apply before this one.
            for new in plan():
                newest = _newest(conn, new.kind, new.name)
                if newest is not None and newest.digest == new.digest:
                    done.append((newest, False))
                    continue
                version = 1 if newest is None else newest.version + 1
                conn.execute(
                    FEATURE_DEFINITIONS.insert().values(
                        kind=new.kind,
                        name=new.name,
                        version=version,
                        spec=json.dumps(new.spec, sort_keys=True),
                        digest=new.digest,
                        created_time=now,
                    )
                )
                written = FeatureRecord(new.kind, new.name, version, new.spec, new.digest, now)
                done.append((written, True))
        return done

    def get_definition(self, kind: str, name: str, version: int | None = None) -> FeatureRecord:
        t = FEATURE_DEFINITIONS.c
        with self.db.read() as conn:
            if version is None:
                found = _newest(conn, kind, name)
            else:
                row = conn.execute(
                    select(FEATURE_DEFINITIONS).where(
                        t.kind == kind, t.name == name, t.version == version
                    )
                ).first()
                found = None if row is None else _record(row)
        if found is None:
            raise missing_definition(kind, name, version)
        return found

    def list_definitions(self, kind: str | None = None) -> list[FeatureRecord]:
        t = FEATURE_DEFINITIONS.c
        newest = select(t.kind, t.name, func.max(t.version).label("version")).group_by(
            t.kind, t.name
        )
        if kind is not None:
            newest = newest.where(t.kind == kind)
        latest = newest.subquery()
        query = (
            select(FEATURE_DEFINITIONS)
            .join(
                latest,
                (t.kind == latest.c.kind)
                & (t.name == latest.c.name)
                & (t.version == latest.c.version),
            )
            .order_by(t.kind, t.name)
        )
        with self.db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def definition_versions(self, kind: str, name: str) -> list[FeatureRecord]:
        t = FEATURE_DEFINITIONS.c
        query = (
            select(FEATURE_DEFINITIONS).where(t.kind == kind, t.name == name).order_by(t.version)
        )
        with self.db.read() as conn:
            found = [_record(row) for row in conn.execute(query)]
        if not found:
            raise missing_definition(kind, name)
        return found

    # -- materialisations ---------------------------------------------------------------
    def add_materialization(
        self, view: str, start_ms: int, end_ms: int, rows: int
    ) -> FeatureMaterialization:
        for what, value in (("start_ms", start_ms), ("end_ms", end_ms), ("rows", rows)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgument(f"{what} must be an integer, got {value!r:.40}.")
        if end_ms < start_ms or rows < 0:
            raise InvalidArgument(
                f"A materialisation needs start_ms <= end_ms and rows >= 0, "
                f"got [{start_ms}, {end_ms}) with {rows} rows."
            )
        record = FeatureMaterialization(view, start_ms, end_ms, rows, now_ms())
        with self.db.write() as conn:
            conn.execute(
                FEATURE_MATERIALIZATIONS.insert().values(
                    view=view,
                    start_ms=start_ms,
                    end_ms=end_ms,
                    rows=rows,
                    finished_time=record.finished_time,
                )
            )
        return record

    def list_materializations(self, view: str, limit: int = 100) -> list[FeatureMaterialization]:
        t = FEATURE_MATERIALIZATIONS.c
        query = (
            select(FEATURE_MATERIALIZATIONS)
            .where(t.view == view)
            .order_by(t.end_ms.desc(), t.id.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_materialization(row) for row in conn.execute(query)]
