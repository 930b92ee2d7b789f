"""Write the UI benchmark's runs into a loopml SQLite store; runs in the project venv.

    .venv/bin/python bench/ui/load_loopml.py DB MANIFEST RUNS POINTS

Through ``Client.create_runs``, loopml's bulk path: whole runs (params, the
latest value of each metric, the big run's long history) in one transaction
per chunk of runs. The manifest maps run names to loopml's run ids, for the
views the benchmark opens.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from _ui_data import EXPERIMENT, USER, RunData, Size, runs

import loopml
from loopml.store import Metric, NewRun, Param
from loopml.tracking import Client

CHUNK_RUNS = 500


def main() -> None:
    db, manifest = Path(sys.argv[1]), Path(sys.argv[2])
    size = Size(runs=int(sys.argv[3]), big_points=int(sys.argv[4]))
    start = time.perf_counter()
    client = Client(tracking_uri=f"sqlite:///{db}")
    experiment_id = client.create_experiment(EXPERIMENT)
    ids: dict[str, str] = {}
    chunk: list[RunData] = []
    for run in runs(size):
        chunk.append(run)
        if len(chunk) == CHUNK_RUNS:
            ids.update(_write(client, experiment_id, chunk))
            chunk = []
    if chunk:
        ids.update(_write(client, experiment_id, chunk))
    client.close()
    manifest.write_text(
        json.dumps(
            {
                "experiment_id": experiment_id,
                "run_ids": ids,
                "load_s": time.perf_counter() - start,
                "version": loopml.__version__,
            }
        )
    )


def _write(client: Client, experiment_id: str, chunk: list[RunData]) -> dict[str, str]:
    new = [
        NewRun(
            run_name=run.name,
            start_time=run.start_time,
            end_time=run.end_time,
            status="FINISHED",
            user_id=USER,
            metrics=tuple(Metric(k, v, ts, step) for k, v, ts, step in run.metrics),
            params=tuple(Param(k, v) for k, v in run.params.items()),
        )
        for run in chunk
    ]
    run_ids = client.create_runs(experiment_id, new)
    return {run.name: run_id for run, run_id in zip(chunk, run_ids, strict=True)}


if __name__ == "__main__":
    main()
