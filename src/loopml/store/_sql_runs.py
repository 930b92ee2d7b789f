"""SQL repository of runs: creation, loading, status, and the batched log write."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, select, text, tuple_, update

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, InvalidState, NotFound
from loopml.store import _metric_chunks as metric_chunks
from loopml.store import _sql_experiments as experiments
from loopml.store._metric_chunks import PointColumns
from loopml.store._models import (
    INGESTED_BATCHES,
    LATEST_METRICS,
    METRIC_CHUNKS,
    PARAMS,
    RUN_INPUTS,
    RUNS,
    TAGS,
)
from loopml.store._upsert import ignore_statement, insert_ignore, upsert
from loopml.store.records import (
    DatasetInput,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
)

IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit


def missing_run(run_id: str) -> NotFound:
    return NotFound(f"No run with id {run_id!r}.")


def create(
    conn: Connection,
    experiment_id: str,
    run_id: str,
    run_name: str,
    start_time: int,
    tags: Sequence[RunTag],
    parent_run_id: str | None,
    user_id: str,
) -> Run:
    exp = experiments.get(conn, experiment_id)
    if exp.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidState(
            f"Experiment {exp.name!r} is deleted: restore it before starting runs in it."
        )
    if parent_run_id is not None:
        get_status(conn, parent_run_id)
    info = RunInfo(
        run_id=run_id,
        run_name=run_name,
        experiment_id=exp.experiment_id,
        status=RunStatus.RUNNING,
        start_time=start_time,
        end_time=None,
        lifecycle_stage=LifecycleStage.ACTIVE,
        artifact_uri=f"{exp.artifact_location}/{run_id}/artifacts",
        user_id=user_id,
        parent_run_id=parent_run_id,
    )
    conn.execute(
        RUNS.insert().values(
            run_uuid=run_id,
            experiment_id=int(exp.experiment_id),
            name=run_name,
            status=info.status,
            start_time=start_time,
            end_time=None,
            lifecycle_stage=info.lifecycle_stage,
            user_id=user_id,
            artifact_uri=info.artifact_uri,
            parent_run_id=parent_run_id,
        )
    )
    if tags:
        conn.execute(
            TAGS.insert(), [{"run_uuid": run_id, "key": t.key, "value": t.value} for t in tags]
        )
    return Run(info=info, data=RunData(tags={t.key: t.value for t in tags}))


def get_status(conn: Connection, run_id: str) -> Any:
    """The run's (status, lifecycle_stage); NotFound if there is no such run."""
    row = conn.execute(
        select(RUNS.c.status, RUNS.c.lifecycle_stage).where(RUNS.c.run_uuid == run_id)
    ).first()
    if row is None:
        raise missing_run(run_id)
    return row


# Run rows are selected as these columns, in this order, and unpacked by position.
INFO_COLUMNS = (
    RUNS.c.run_uuid,
    RUNS.c.name,
    RUNS.c.experiment_id,
    RUNS.c.status,
    RUNS.c.start_time,
    RUNS.c.end_time,
    RUNS.c.lifecycle_stage,
    RUNS.c.artifact_uri,
    RUNS.c.user_id,
    RUNS.c.parent_run_id,
)


def select_runs() -> Select[Any]:
    """A query for run rows in the shape ``load`` and ``_info`` read."""
    return select(*INFO_COLUMNS)


def _info(row: Sequence[Any]) -> RunInfo:
    run_id, name, experiment_id, status, start, end, stage, uri, user, parent = row
    return RunInfo(run_id, name, str(experiment_id), status, start, end, stage, uri, user, parent)


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + IN_CHUNK] for i in range(0, len(ids), IN_CHUNK)]


# DatasetInput's fields, in its constructor's order.
_INPUT_FIELDS = "name, digest, source_type, source, schema, profile, context"


def _driver_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    """Plain tuples from the driver cursor, inside the current transaction.

    Used on the hot read paths only (search results, history): SQLAlchemy's
    statement building and Row wrapping cost more than these small queries.
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def load(conn: Connection, run_rows: Sequence[Any]) -> list[Run]:
    """Turn run rows into full runs, fetching their data in a few bulk queries."""
    ids = [row[0] for row in run_rows]
    metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    inputs: dict[str, list[DatasetInput]] = {i: [] for i in ids}
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for chunk in _chunks(ids):
        where = f"WHERE run_uuid IN ({', '.join([mark] * len(chunk))})"
        for run_uuid, key, value, is_nan in _driver_rows(
            conn, f"SELECT run_uuid, key, value, is_nan FROM {LATEST_METRICS.name} {where}", chunk
        ):
            metrics[run_uuid][key] = math.nan if is_nan else value
        for table, target in ((PARAMS, params), (TAGS, tags)):
            for run_uuid, key, value in _driver_rows(
                conn, f"SELECT run_uuid, key, value FROM {table.name} {where}", chunk
            ):
                target[run_uuid][key] = value
        for run_uuid, *fields in _driver_rows(
            conn, f"SELECT run_uuid, {_INPUT_FIELDS} FROM {RUN_INPUTS.name} {where}", chunk
        ):
            inputs[run_uuid].append(DatasetInput(*fields))
    return [
        Run(
            _info(row),
            RunData(metrics[row[0]], params[row[0]], tags[row[0]]),
            RunInputs(tuple(inputs[row[0]])),
        )
        for row in run_rows
    ]


def get(conn: Connection, run_id: str) -> Run:
    row = conn.execute(select_runs().where(RUNS.c.run_uuid == run_id)).first()
    if row is None:
        raise missing_run(run_id)
    return load(conn, [row])[0]


def update_run(
    conn: Connection,
    run_id: str,
    status: str | None,
    end_time: int | None,
    run_name: str | None,
) -> RunInfo:
    values: dict[str, Any] = {}
    if status is not None:
        values["status"] = status
        # A run made RUNNING again (resumed) has no end time.
        values["end_time"] = end_time if RunStatus(status).is_terminated else None
    elif end_time is not None:
        values["end_time"] = end_time
    if run_name is not None:
        values["name"] = run_name
    if (
        values
        and conn.execute(update(RUNS).where(RUNS.c.run_uuid == run_id).values(**values)).rowcount
        == 0
    ):
        raise missing_run(run_id)
    if run_name is not None:
        upsert(
            conn,
            TAGS,
            [{"run_uuid": run_id, "key": "mlflow.runName", "value": run_name}],
            keys=("run_uuid", "key"),
            update=("value",),
        )
    row = conn.execute(select_runs().where(RUNS.c.run_uuid == run_id)).first()
    if row is None:
        raise missing_run(run_id)
    return _info(row)


def set_lifecycle(conn: Connection, run_id: str, stage: LifecycleStage, when: int) -> None:
    deleted_time = when if stage == LifecycleStage.DELETED else None
    result = conn.execute(
        update(RUNS)
        .where(RUNS.c.run_uuid == run_id)
        .values(lifecycle_stage=stage, deleted_time=deleted_time)
    )
    if result.rowcount == 0:
        raise missing_run(run_id)


def check_writable(conn: Connection, run_id: str, annotating_only: bool) -> None:
    status, stage = get_status(conn, run_id)
    if stage != LifecycleStage.ACTIVE:
        raise InvalidState(f"Run {run_id} is deleted: restore it before logging to it.")
    if not annotating_only and RunStatus(status).is_terminated:
        raise InvalidState(
            f"Run {run_id} is {status}: metrics and params can no longer change. "
            f"Resume it with start_run(run_id='{run_id}') to log more."
        )


def unique_params(params: Sequence[Param]) -> dict[str, str]:
    """Key -> value; a key given twice with different values is refused."""
    wanted: dict[str, str] = {}
    for param in params:
        previous = wanted.setdefault(param.key, param.value)
        if previous != param.value:
            raise InvalidArgument(
                f"Param {param.key!r} appears twice in one batch with different values "
                f"({previous!r} and {param.value!r})."
            )
    return wanted


def _write_params(conn: Connection, run_id: str, params: Sequence[Param]) -> None:
    wanted = unique_params(params)
    existing: dict[str, str] = {}
    for chunk in _chunks(list(wanted)):
        existing.update(
            conn.execute(
                select(PARAMS.c.key, PARAMS.c.value).where(
                    PARAMS.c.run_uuid == run_id, PARAMS.c.key.in_(chunk)
                )
            ).all()
        )
    for key, old in existing.items():
        if wanted[key] != old:
            raise InvalidArgument(
                f"Changing param values is not allowed. Param {key!r} was already logged with "
                f"value {old!r} for run {run_id}; attempted new value {wanted[key]!r}. "
                "Log it under another key, or start a new run."
            )
    new = [
        {"run_uuid": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in existing
    ]
    if new:
        conn.execute(PARAMS.insert(), new)


# Columns of the rows ``metric_rows`` builds, in their order.
CHUNK_COLUMNS = ("run_uuid", "key", "count", "data")
LATEST_COLUMNS = ("run_uuid", "key", "value", "step", "timestamp", "is_nan")


def _write_metrics(conn: Connection, run_id: str, metrics: Sequence[Metric]) -> None:
    """One packed chunk per key, and the latest point per key upserted."""
    chunks: list[tuple[Any, ...]] = []
    latest: list[tuple[Any, ...]] = []
    metric_rows(run_id, metrics, chunks, latest)
    conn.execute(
        METRIC_CHUNKS.insert(), [dict(zip(CHUNK_COLUMNS, row, strict=True)) for row in chunks]
    )
    upsert(
        conn,
        LATEST_METRICS,
        [dict(zip(LATEST_COLUMNS, row, strict=True)) for row in latest],
        keys=("run_uuid", "key"),
        update=("value", "step", "timestamp", "is_nan"),
        where=_is_newer,
    )


def metric_rows(
    run_id: str,
    metrics: Sequence[Metric],
    chunks: list[tuple[Any, ...]],
    latest: list[tuple[Any, ...]],
) -> None:
    """Append the chunk row and the latest-point row of each key of ``metrics``.

    Rows are tuples in the order of ``CHUNK_COLUMNS`` and ``LATEST_COLUMNS``.
    """
    if len(metrics) == 1:  # a run's one summary metric (bulk-created runs): no NumPy
        point = metrics[0]
        data = metric_chunks.encode_point(point.step, point.timestamp, point.value)
        chunks.append((run_id, point.key, 1, data))
        latest.append(_latest_row(run_id, point.key, point.step, point.timestamp, point.value))
        return
    by_key: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for metric in metrics:
        lists = by_key.get(metric.key)
        if lists is None:
            lists = by_key[metric.key] = ([], [], [])
        lists[0].append(metric.step)
        lists[1].append(metric.timestamp)
        lists[2].append(metric.value)
    for key, lists in by_key.items():
        columns = PointColumns.from_lists(*lists)
        chunks.append((run_id, key, len(lists[0]), columns.encode()))
        latest.append(_latest_row(run_id, key, *columns.latest()))


def _latest_row(run_id: str, key: str, step: int, timestamp: int, value: float) -> tuple[Any, ...]:
    is_nan = math.isnan(value)
    return (run_id, key, 0.0 if is_nan else value, step, timestamp, is_nan)


def _is_newer(new: Any) -> Any:
    """The upsert condition: the incoming point is at least as late as the stored one."""
    stored = LATEST_METRICS.c
    return tuple_(new.step, new.timestamp, new.value) >= tuple_(
        stored.step, stored.timestamp, stored.value
    )


def _claim_batch(conn: Connection, run_id: str, batch_id: str) -> bool:
    """Record ``batch_id`` in this transaction; False if it was stored before."""
    result = conn.execute(
        ignore_statement(conn.dialect.name, INGESTED_BATCHES),
        {"batch_id": batch_id, "run_uuid": run_id, "created": now_ms()},
    )
    return bool(result.rowcount)


def log_batch(
    conn: Connection,
    run_id: str,
    metrics: Sequence[Metric],
    params: Sequence[Param],
    tags: Sequence[RunTag],
    batch_id: str | None = None,
) -> None:
    if batch_id is not None:
        seen = conn.execute(
            select(INGESTED_BATCHES.c.batch_id).where(INGESTED_BATCHES.c.batch_id == batch_id)
        ).first()
        if seen is not None:
            return  # a replay of a batch already stored: nothing to do
    check_writable(conn, run_id, annotating_only=not metrics and not params)
    # Claimed after the checks (the run must exist) and before the writes; a
    # concurrent replay of the same batch waits on the key and then skips.
    if batch_id is not None and not _claim_batch(conn, run_id, batch_id):
        return
    if params:
        _write_params(conn, run_id, params)
    if tags:
        last = {t.key: t.value for t in tags}
        upsert(
            conn,
            TAGS,
            [{"run_uuid": run_id, "key": k, "value": v} for k, v in last.items()],
            keys=("run_uuid", "key"),
            update=("value",),
        )
        if "mlflow.runName" in last:
            conn.execute(
                update(RUNS).where(RUNS.c.run_uuid == run_id).values(name=last["mlflow.runName"])
            )
    if metrics:
        _write_metrics(conn, run_id, metrics)


def delete_tag(conn: Connection, run_id: str, key: str) -> None:
    check_writable(conn, run_id, annotating_only=True)
    result = conn.execute(delete(TAGS).where(TAGS.c.run_uuid == run_id, TAGS.c.key == key))
    if result.rowcount == 0:
        raise NotFound(f"Run {run_id} has no tag {key!r}.")


def _metric_chunks(conn: Connection, run_id: str, key: str) -> list[Any]:
    chunks = conn.execute(
        select(METRIC_CHUNKS.c.count, METRIC_CHUNKS.c.data)
        .where(METRIC_CHUNKS.c.run_uuid == run_id, METRIC_CHUNKS.c.key == key)
        .order_by(METRIC_CHUNKS.c.id)
    ).all()
    if not chunks:
        get_status(conn, run_id)  # NotFound for an unknown run; else an empty history
    return list(chunks)


def metric_history(conn: Connection, run_id: str, key: str) -> list[Metric]:
    return metric_chunks.history(key, _metric_chunks(conn, run_id, key))


def metric_columns(conn: Connection, run_id: str, key: str) -> PointColumns:
    return metric_chunks.history_columns(_metric_chunks(conn, run_id, key))


def log_inputs(conn: Connection, run_id: str, datasets: Sequence[DatasetInput]) -> None:
    check_writable(conn, run_id, annotating_only=True)
    insert_ignore(
        conn,
        RUN_INPUTS,
        [
            {
                "run_uuid": run_id,
                "name": d.name,
                "digest": d.digest,
                "context": d.context,
                "source_type": d.source_type,
                "source": d.source,
                "schema": d.schema,
                "profile": d.profile,
            }
            for d in datasets
        ],
    )


# Distinct metric keys by a loose index scan of ix_latest_metrics_key_value: one index
# seek per distinct key (the next key after the last), kept when one run of the
# experiments has it (a primary-key probe per run, stopping at the first hit).
_METRIC_KEYS = f"""
WITH RECURSIVE k(key) AS (
  SELECT MIN(key) FROM {LATEST_METRICS.name}
  UNION ALL
  SELECT (SELECT MIN(m.key) FROM {LATEST_METRICS.name} m WHERE m.key > k.key)
  FROM k WHERE k.key IS NOT NULL
)
SELECT k.key FROM k WHERE k.key IS NOT NULL AND EXISTS (
  SELECT 1 FROM {LATEST_METRICS.name} m WHERE m.key = k.key AND m.run_uuid IN (
    SELECT run_uuid FROM {RUNS.name} WHERE experiment_id IN :ids AND lifecycle_stage IN :stages
  )
)
ORDER BY k.key
"""


def keys(
    conn: Connection, experiment_ids: Sequence[int], stages: Sequence[str]
) -> dict[str, list[str]]:
    """Every metric, param and tag key of the runs of some experiments, sorted per kind.

    Only the key indexes are read, never a value or a run's data. Metric keys come
    from a loose index scan (cost grows with the number of distinct keys, not of
    rows: 10,000 runs x 500 keys answer in milliseconds). Params and tags have no
    index led by the key, so theirs is one ``SELECT DISTINCT key`` over the primary
    key ``(run_uuid, key)`` of the experiments' runs: index-only, but it visits each
    (run, key) pair once.
    """
    runs_of = select(RUNS.c.run_uuid).where(
        RUNS.c.experiment_id.in_(list(experiment_ids)), RUNS.c.lifecycle_stage.in_(list(stages))
    )
    metric_keys = text(_METRIC_KEYS).bindparams(
        bindparam("ids", list(experiment_ids), expanding=True),
        bindparam("stages", list(stages), expanding=True),
    )
    found = {"metrics": list(conn.execute(metric_keys).scalars())}
    for kind, table in (("params", PARAMS), ("tags", TAGS)):
        query = select(table.c.key).where(table.c.run_uuid.in_(runs_of)).distinct()
        found[kind] = list(conn.execute(query.order_by(table.c.key)).scalars())
    return found
