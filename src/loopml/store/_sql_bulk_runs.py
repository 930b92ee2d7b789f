"""SQL repository of whole runs created in bulk (``TrackingStore.create_runs``).

One transaction and one ``executemany`` per table for any number of runs,
on the driver's cursor: SQLAlchemy's per-row parameter processing costs more
than SQLite's insert of the row. A thousand tuning trials are one write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from loopml.core.errors import InvalidState
from loopml.store import _sql_experiments as experiments
from loopml.store._models import LATEST_METRICS, METRIC_CHUNKS, PARAMS, RUNS, TAGS
from loopml.store._sql_runs import (
    CHUNK_COLUMNS,
    LATEST_COLUMNS,
    get_status,
    metric_rows,
    unique_params,
)
from loopml.store.records import LifecycleStage, NewRun


def create_many(conn: Connection, experiment_id: str, runs: Sequence[tuple[str, NewRun]]) -> None:
    """Insert whole runs with one statement per table (bulk imports, tuning trials)."""
    exp = experiments.get(conn, experiment_id)
    if exp.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidState(
            f"Experiment {exp.name!r} is deleted: restore it before starting runs in it."
        )
    for parent in {new.parent_run_id for _, new in runs if new.parent_run_id}:
        get_status(conn, parent)
    run_rows: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[str, str, str]] = []
    param_rows: list[tuple[str, str, str]] = []
    chunks: list[tuple[Any, ...]] = []
    latest: list[tuple[Any, ...]] = []
    experiment, location = int(exp.experiment_id), exp.artifact_location
    active = LifecycleStage.ACTIVE.value
    for run_id, new in runs:
        run_rows.append(
            (
                run_id,
                experiment,
                new.run_name,
                new.status,
                new.start_time,
                new.end_time,
                active,
                new.user_id,
                f"{location}/{run_id}/artifacts",
                new.parent_run_id,
            )
        )
        tag_rows.extend((run_id, key, value) for key, value in new.system_tags().items())
        param_rows.extend((run_id, k, v) for k, v in unique_params(new.params).items())
        if new.metrics:
            metric_rows(run_id, new.metrics, chunks, latest)
    _driver_insert(conn, RUNS.name, _RUN_COLUMNS, run_rows)
    _driver_insert(conn, TAGS.name, _KEY_VALUE_COLUMNS, tag_rows)
    _driver_insert(conn, PARAMS.name, _KEY_VALUE_COLUMNS, param_rows)
    _driver_insert(conn, METRIC_CHUNKS.name, CHUNK_COLUMNS, chunks)
    _driver_insert(conn, LATEST_METRICS.name, LATEST_COLUMNS, latest)


_RUN_COLUMNS = (
    "run_uuid",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "user_id",
    "artifact_uri",
    "parent_run_id",
)
_KEY_VALUE_COLUMNS = ("run_uuid", "key", "value")


def _driver_insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``executemany`` on the driver cursor, inside the current transaction.

    The bulk path of ``create_many``: SQLAlchemy's per-row parameter
    processing costs more than SQLite's insert of the row.
    """
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()
