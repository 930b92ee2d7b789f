"""Write the UI benchmark's runs into an MLflow SQLite store; runs in MLflow's venv.

    bench/.venvs/mlflow/bin/python bench/ui/load_mlflow.py DB MANIFEST RUNS POINTS [--api]

The experiment is made with ``MlflowClient`` (which also creates and migrates the
database). The runs go in through MLflow's own SQLAlchemy tables
(``mlflow.store.tracking.dbmodels``), one transaction per CHUNK_RUNS runs, with the
rows MLflow's API writes: the run (FINISHED, its end time), the tags
``mlflow.user`` and ``mlflow.runName``, params, metric points and each metric's
latest point. Through the API (``--api``: per run ``create_run``, ``log_batch`` of
its 100 items, ``set_terminated``) 10,000 runs take about ten minutes, as each call
is its own transaction; ``--api`` stays to check on a small size that both write
the same rows. The manifest maps run names to MLflow's run ids.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import mlflow
from _ui_data import EXPERIMENT, USER, RunData, Size, runs
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.store.tracking.dbmodels.models import (
    SqlLatestMetric,
    SqlMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlflow.utils.uri import append_to_uri_path
from sqlalchemy import insert

MAX_METRICS_PER_BATCH = 1000
CHUNK_RUNS = 500


def main() -> None:
    db, manifest = Path(sys.argv[1]), Path(sys.argv[2])
    size = Size(runs=int(sys.argv[3]), big_points=int(sys.argv[4]))
    through_api = "--api" in sys.argv[5:]
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    start = time.perf_counter()
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment_id = client.create_experiment(EXPERIMENT)
    if through_api:
        ids = {run.name: _write_api(client, experiment_id, run) for run in runs(size)}
    else:
        ids = _write_bulk(client, experiment_id, size)
    manifest.write_text(
        json.dumps(
            {
                "experiment_id": experiment_id,
                "run_ids": ids,
                "load_s": time.perf_counter() - start,
                "version": mlflow.__version__,
                "path": "api" if through_api else "bulk",
            }
        )
    )


def _write_bulk(client: MlflowClient, experiment_id: str, size: Size) -> dict[str, str]:
    store = client._tracking_client.store  # the SqlAlchemyStore on the database
    location = client.get_experiment(experiment_id).artifact_location
    ids: dict[str, str] = {}
    chunk: list[RunData] = []
    for run in runs(size):
        chunk.append(run)
        if len(chunk) == CHUNK_RUNS:
            ids.update(_insert(store, experiment_id, location, chunk))
            chunk = []
    if chunk:
        ids.update(_insert(store, experiment_id, location, chunk))
    return ids


def _insert(store: object, experiment_id: str, location: str, chunk: list[RunData]) -> dict:
    ids: dict[str, str] = {}
    rows: dict[Any, list[dict]] = {t: [] for t in (SqlRun, SqlTag, SqlParam, SqlMetric)}
    latest_rows: list[dict] = []
    for run in chunk:
        run_id = uuid.uuid4().hex
        ids[run.name] = run_id
        rows[SqlRun].append(
            {
                "run_uuid": run_id,
                "name": run.name,
                "source_type": "UNKNOWN",
                "source_name": "",
                "entry_point_name": "",
                "user_id": USER,
                "status": "FINISHED",
                "start_time": run.start_time,
                "end_time": run.end_time,
                "deleted_time": None,
                "source_version": "",
                "lifecycle_stage": "active",
                "artifact_uri": append_to_uri_path(location, run_id, "artifacts"),
                "experiment_id": int(experiment_id),
            }
        )
        for tag, text in (("mlflow.user", USER), ("mlflow.runName", run.name)):
            rows[SqlTag].append({"key": tag, "value": text, "run_uuid": run_id})
        rows[SqlParam].extend(
            {"key": k, "value": v, "run_uuid": run_id} for k, v in run.params.items()
        )
        latest: dict[str, dict] = {}
        for key, value, timestamp, step in run.metrics:
            point = {
                "key": key,
                "value": value,
                "timestamp": timestamp,
                "step": step,
                "is_nan": False,
                "run_uuid": run_id,
            }
            rows[SqlMetric].append(point)
            kept = latest.get(key)
            if kept is None or (step, timestamp, value) >= (
                kept["step"],
                kept["timestamp"],
                kept["value"],
            ):
                latest[key] = point  # MLflow's rule: highest step, then time, then value
        latest_rows.extend(latest.values())
    with store.ManagedSessionMaker(read_only=False) as session:  # type: ignore[attr-defined]
        for model, table_rows in rows.items():
            session.execute(insert(model.__table__), table_rows)
        session.execute(insert(SqlLatestMetric.__table__), latest_rows)
    return ids


def _write_api(client: MlflowClient, experiment_id: str, run: RunData) -> str:
    created = client.create_run(
        experiment_id,
        start_time=run.start_time,
        tags={"mlflow.user": USER},
        run_name=run.name,
    )
    run_id = created.info.run_id
    metrics = [Metric(k, v, ts, step) for k, v, ts, step in run.metrics]
    params = [Param(k, v) for k, v in run.params.items()]
    first = MAX_METRICS_PER_BATCH - len(params)
    client.log_batch(run_id, metrics=metrics[:first], params=params)
    for offset in range(first, len(metrics), MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[offset : offset + MAX_METRICS_PER_BATCH])
    client.set_terminated(run_id, "FINISHED", end_time=run.end_time)
    return str(run_id)


if __name__ == "__main__":
    main()
