"""SQL repository of the artifact index and of permanent deletion."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, delete, or_, select, union

from loopml.core.clock import now_ms
from loopml.store._models import (
    ARTIFACTS,
    DATASET_VERSIONS,
    MODEL_VERSION_FILES,
    PREDICTION_SEGMENTS,
)
from loopml.store._sql_runs import RUNS, check_writable
from loopml.store._upsert import upsert
from loopml.store.records import ArtifactEntry, LifecycleStage


def record(conn: Connection, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
    check_writable(conn, run_id, annotating_only=True)
    created = now_ms()
    upsert(
        conn,
        ARTIFACTS,
        [
            {
                "run_uuid": run_id,
                "path": e.path,
                "blob_id": e.blob_id,
                "size": e.size,
                "created": created,
            }
            for e in entries
        ],
        keys=("run_uuid", "path"),
        update=("blob_id", "size", "created"),
    )


def list_entries(conn: Connection, run_id: str, prefix: str) -> list[ArtifactEntry]:
    query = select(ARTIFACTS.c.path, ARTIFACTS.c.blob_id, ARTIFACTS.c.size).where(
        ARTIFACTS.c.run_uuid == run_id
    )
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(ARTIFACTS.c.path == prefix, ARTIFACTS.c.path.like(f"{escaped}/%", escape="\\"))
        )
    return [ArtifactEntry(*row) for row in conn.execute(query.order_by(ARTIFACTS.c.path))]


def referenced_blobs(conn: Connection) -> Iterator[str]:
    """Blobs of run artifacts, model version snapshots (which outlive their runs),
    prediction-log segments and registered dataset versions (blobs or trees)."""
    query = union(
        select(ARTIFACTS.c.blob_id),
        select(MODEL_VERSION_FILES.c.blob_id),
        select(PREDICTION_SEGMENTS.c.blob_id),
        select(DATASET_VERSIONS.c.content_id),
    )
    for (blob_id,) in conn.execute(query):
        yield blob_id


def purge_deleted_runs(conn: Connection, deleted_before: int) -> list[str]:
    """Remove deleted runs for good; their rows in every child table cascade."""
    run_ids = list(
        conn.execute(
            select(RUNS.c.run_uuid).where(
                RUNS.c.lifecycle_stage == LifecycleStage.DELETED,
                RUNS.c.deleted_time <= deleted_before,
            )
        ).scalars()
    )
    for start in range(0, len(run_ids), 500):
        conn.execute(delete(RUNS).where(RUNS.c.run_uuid.in_(run_ids[start : start + 500])))
    return run_ids
