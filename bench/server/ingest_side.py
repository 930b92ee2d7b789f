"""Sustained ingest through the loopml SDK into ``loopml server``; runs in the project venv.

    .venv/bin/python bench/server/ingest_side.py OUT_JSON PROCESSES STORE_URI

``LOOPML_TRACKING_URI`` (http://...) names the server; ``STORE_URI`` is the
server's own database, read directly afterwards to count what was stored.

Each of PROCESSES worker processes imports loopml and resolves the
experiment (untimed), waits at a barrier, then: ``lm.start_run``,
``lm.log_metrics`` of METRIC_KEYS keys per step until it has logged
POINTS_PER_PROCESS points (or LOG_BUDGET_SECONDS have passed), ``lm.end_run``.
The figure counts only what the server had stored when the last worker's
end_run returned: once all workers are past end_run (a second barrier), each
reads its run back from the server's database. That count, over the wall
time from the first worker's start to the last worker's end_run, is the
figure; the count after every worker has exited is reported beside it.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import sys
import time
from pathlib import Path
from typing import Any

import loopml as lm

SEED = 20240601
POINTS_PER_PROCESS = 200_000
METRIC_KEYS = 10  # 10 keys x 20,000 steps
LOG_BUDGET_SECONDS = 60.0  # a slow SDK is measured on what it managed, not waited for
CHECK_EVERY_STEPS = 500
BASE_TIMESTAMP_MS = 1_700_000_000_000


def main() -> None:
    out, processes, store_uri = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    experiment = f"ingest-{processes}"
    lm.set_experiment(experiment)  # created once, before the workers race to it
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    all_ended = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(i, experiment, store_uri, barrier, all_ended, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)  # every worker is ready: go
    reports = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    errors = [r["error"] for r in reports if "error" in r]
    if errors:
        raise SystemExit(f"{len(errors)} worker(s) failed; first: {errors[0]}")
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    logged = sum(r["logged"] for r in reports)
    stored_at_end = sum(r["stored_at_end"] for r in reports)
    stored = _count_stored(store_uri, [r["run_id"] for r in reports])
    result = {
        "processes": processes,
        "logged": logged,
        "stored_at_end": stored_at_end,
        "stored": stored,
        "wall_s": wall,
        "metrics_per_s": stored_at_end / wall,
        "per_process": [
            {
                "logged": r["logged"],
                "seconds": r["end"] - r["start"],
                "end_run_s": r["end"] - r["logged_at"],
            }
            for r in reports
        ],
    }
    out.write_text(json.dumps(result, indent=2) + "\n")


def _worker(
    index: int, experiment: str, store_uri: str, barrier: Any, all_ended: Any, results: Any
) -> None:
    try:
        rng = random.Random(SEED + index)
        values = [rng.random() for _ in range(4096)]
        keys = [f"m{k}" for k in range(METRIC_KEYS)]
        lm.set_experiment(experiment)  # opens the client and finds the experiment, untimed
        steps = POINTS_PER_PROCESS // METRIC_KEYS
        barrier.wait(timeout=120)
        start = time.monotonic()
        run = lm.start_run(run_name=f"p{index}")
        logged = 0
        for step in range(steps):
            if step % CHECK_EVERY_STEPS == 0 and time.monotonic() - start > LOG_BUDGET_SECONDS:
                break
            offset = step % 4000
            lm.log_metrics(
                dict(zip(keys, values[offset : offset + METRIC_KEYS], strict=True)),
                step=step,
                timestamp=BASE_TIMESTAMP_MS + step,
            )
            logged += METRIC_KEYS
        logged_at = time.monotonic()
        lm.end_run()
        end = time.monotonic()
        all_ended.wait(timeout=300)
        stored_at_end = _count_stored(store_uri, [run.info.run_id])
        results.put(
            {
                "run_id": run.info.run_id,
                "logged": logged,
                "stored_at_end": stored_at_end,
                "start": start,
                "logged_at": logged_at,
                "end": end,
            }
        )
    except BaseException as exc:  # the parent must hear of it, not wait forever
        barrier.abort()  # nor the other workers
        all_ended.abort()
        results.put({"error": f"worker {index}: {type(exc).__name__}: {exc!r}"})
        raise


def _count_stored(store_uri: str, run_ids: list[str]) -> int:
    """Points of each run's metrics as the server's database holds them."""
    client = lm.Client(tracking_uri=store_uri)
    return sum(
        len(client.get_metric_history(run_id, f"m{k}"))
        for run_id in run_ids
        for k in range(METRIC_KEYS)
    )


if __name__ == "__main__":
    main()
