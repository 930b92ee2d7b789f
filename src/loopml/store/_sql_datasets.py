"""The SQL dataset store, on the tracking store's own database.

Sharing the ``Database`` (``SqlTrackingStore.db``) lets ``loopml gc`` keep the
content of every registered version (``referenced_blobs``) in the same pass as
run artifacts and model snapshots.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, select, update

from loopml.core.clock import now_ms
from loopml.store._database import Database
from loopml.store._dataset_base import DatasetStore, missing_dataset, missing_version
from loopml.store._migrate import upgrade
from loopml.store._models import DATASET_VERSIONS, DATASETS
from loopml.store._upsert import insert_ignore
from loopml.store._visibility import where_visible
from loopml.store.dataset_records import (
    ColumnProfile,
    Dataset,
    DatasetVersion,
    NewDatasetVersion,
)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _record(row: Any) -> DatasetVersion:
    profile = None
    if row.profile is not None:
        profile = tuple(ColumnProfile(**column) for column in json.loads(row.profile))
    return DatasetVersion(
        name=row.name,
        version=row.version,
        content_id=row.content_id,
        kind=row.kind,
        size=row.size,
        files=row.files,
        source=row.source,
        description=row.description,
        tags=json.loads(row.tags),
        user=row.user_id,
        creation_time=row.creation_time,
        schema=None if row.schema is None else json.loads(row.schema),
        rows=row.rows,
        profile=profile,
    )


def _last_version(conn: Connection, name: str, *, lock: bool = False) -> int:
    query = select(DATASETS.c.last_version).where(DATASETS.c.name == name)
    found = conn.execute(query.with_for_update() if lock else query).scalar()
    if found is None:
        raise missing_dataset(name)
    return int(found)


def _get(conn: Connection, name: str, version: int | None) -> DatasetVersion:
    latest = _last_version(conn, name)
    wanted = latest if version is None else version
    row = conn.execute(
        select(DATASET_VERSIONS).where(
            DATASET_VERSIONS.c.name == name, DATASET_VERSIONS.c.version == wanted
        )
    ).first()
    if row is None:
        raise missing_version(name, wanted, latest)
    return _record(row)


class SqlDatasetStore(DatasetStore):
    """A ``DatasetStore`` on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    def create_dataset_version(
        self, name: str, new: NewDatasetVersion
    ) -> tuple[DatasetVersion, bool]:
        now = now_ms()
        with self.db.write() as conn:
            # ON CONFLICT DO NOTHING lets two first registrations of a name race safely.
            insert_ignore(
                conn,
                DATASETS,
                [{"name": name, "creation_time": now, "last_updated_time": now, "last_version": 0}],
            )
            # The row lock (PostgreSQL; SQLite has one writer) serialises registrations of
            # one name, so the content check below and the numbering cannot interleave.
            latest = _last_version(conn, name, lock=True)
            # Registering the newest version's content again is a no-op; content that an
            # older version holds becomes a new version, so "latest" is what was registered last.
            same = conn.execute(
                select(DATASET_VERSIONS).where(
                    DATASET_VERSIONS.c.name == name,
                    DATASET_VERSIONS.c.version == latest,
                    DATASET_VERSIONS.c.content_id == new.content_id,
                )
            ).first()
            if same is not None:
                return _record(same), False
            version = latest + 1
            conn.execute(
                update(DATASETS)
                .where(DATASETS.c.name == name)
                .values(last_version=version, last_updated_time=now)
            )
            conn.execute(
                DATASET_VERSIONS.insert().values(
                    name=name,
                    version=version,
                    content_id=new.content_id,
                    kind=new.kind,
                    size=new.size,
                    files=new.files,
                    source=new.source,
                    description=new.description,
                    tags=_json(dict(new.tags)),
                    user_id=new.user,
                    creation_time=now,
                    schema=_json(new.schema),
                    rows=new.rows,
                    profile=_json(
                        None if new.profile is None else [asdict(c) for c in new.profile]
                    ),
                )
            )
            return _get(conn, name, version), True

    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        with self.db.read() as conn:
            return _get(conn, name, version)

    def list_datasets(self) -> list[Dataset]:
        newest = (
            select(
                DATASET_VERSIONS,
                DATASETS.c.creation_time.label("dataset_created"),
                DATASETS.c.last_updated_time.label("dataset_updated"),
            )
            .join(
                DATASETS,
                (DATASET_VERSIONS.c.name == DATASETS.c.name)
                & (DATASET_VERSIONS.c.version == DATASETS.c.last_version),
            )
            .order_by(DATASETS.c.name)
        )
        newest = where_visible(newest, "dataset", DATASETS.c.name)
        with self.db.read() as conn:
            rows = conn.execute(newest).all()
        return [
            Dataset(row.name, row.dataset_created, row.dataset_updated, _record(row))
            for row in rows
        ]

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        with self.db.read() as conn:
            _last_version(conn, name)
            rows = conn.execute(
                select(DATASET_VERSIONS)
                .where(DATASET_VERSIONS.c.name == name)
                .order_by(DATASET_VERSIONS.c.version.desc())
            ).all()
        return [_record(row) for row in rows]
