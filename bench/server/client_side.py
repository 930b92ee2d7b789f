"""The mlflow-client cases, run against whichever server MLFLOW_TRACKING_URI names.

    bench/.venvs/mlflow/bin/python bench/server/client_side.py OUT_JSON

Runs in MLflow's venv: the unmodified ``MlflowClient`` over HTTP, once
against ``mlflow server`` and once against ``loopml server``, with the same
seeded data. The data and the filter come from the tracking benchmark
(``bench/tracking/_cases.py``), so both benchmarks search the same runs.

    latency   MlflowClient.log_metric, one call at a time: median and p95 (ms)
    batch     log_batch of BATCH_METRICS metrics in chunks of 1,000 (metrics/s)
    history   get_metric_history of 10,000 points (s, median of reps)
    search    search_runs with the filter over 2,000 runs (s, median of reps)

Set-up (experiments, runs, the 2,000 searched runs) and a warm-up of every
call are untimed. Writes are synchronous (bench.py turns async logging off).

history and search are also timed as the bare HTTP request the client sends
(the response read, not parsed), to tell the server's share of a figure from
the client's own (protobuf parsing of the response, building entities).
"""

from __future__ import annotations

import json
import logging
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tracking"))
from _cases import (
    BASE_TIMESTAMP_MS,
    BATCH_SIZE,
    HISTORY_POINTS,
    SEARCH_FILTER,
    SEARCH_MAX_RESULTS,
    SEARCH_PARAM_VALUES,
    SEARCH_RUNS,
    SEED,
)

LATENCY_CALLS = 500
LATENCY_WARMUP_CALLS = 20
BATCH_KEYS = 10  # 10 keys x 5,000 steps = 50,000 metrics
BATCH_STEPS = 5_000
BATCH_REPS = 2  # each into a fresh run; the faster counts (the machine is shared)
QUERY_REPS = 7
SETUP_THREADS = 4  # the untimed creation of the searched runs only


def main() -> None:
    out = Path(sys.argv[1])
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    client = MlflowClient()  # MLFLOW_TRACKING_URI: the server under test
    _warm_up(client)
    figures: dict[str, float] = {}
    samples: dict[str, list[float]] = {}
    checks: dict[str, object] = {}
    for case in (_case_latency, _case_batch, _case_history, _case_search):
        started = time.perf_counter()
        case(client, figures, samples, checks)
        print(f"{case.__name__}: {time.perf_counter() - started:.1f} s", flush=True)
    result = {
        "tool": "mlflow-client",
        "client_version": mlflow.__version__,
        "tracking_uri": mlflow.get_tracking_uri(),
        "figures": figures,
        "samples": samples,
        "checks": checks,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")


def _warm_up(client: MlflowClient) -> None:
    # Opens the HTTP session and pays each endpoint's first-call costs.
    exp_id = client.create_experiment("warmup")
    run_id = client.create_run(exp_id, run_name="warmup").info.run_id
    client.log_metric(run_id, "m0", 0.5, timestamp=BASE_TIMESTAMP_MS, step=0)
    metrics = [Metric("m0", 0.5, BASE_TIMESTAMP_MS, i) for i in range(1, 10)]
    client.log_batch(run_id, metrics=metrics, params=[Param("p1", "v3")])
    client.get_metric_history(run_id, "m0")
    client.search_runs([exp_id], filter_string=SEARCH_FILTER, max_results=SEARCH_MAX_RESULTS)


def _case_latency(client: MlflowClient, figures: dict, samples: dict, checks: dict) -> None:
    rng = random.Random(SEED + 10)
    exp_id = client.create_experiment("latency")
    run_id = client.create_run(exp_id, run_name="latency").info.run_id
    for i in range(LATENCY_WARMUP_CALLS):
        client.log_metric(run_id, "warm", rng.random(), timestamp=BASE_TIMESTAMP_MS, step=i)
    values = [rng.random() for _ in range(LATENCY_CALLS)]
    took = []
    for step, value in enumerate(values):
        start = time.perf_counter()
        client.log_metric(run_id, "loss", value, timestamp=BASE_TIMESTAMP_MS + step, step=step)
        took.append(time.perf_counter() - start)
    ms = [t * 1000 for t in took]
    figures["latency_median_ms"] = statistics.median(ms)
    figures["latency_p95_ms"] = statistics.quantiles(ms, n=100)[94]
    samples["latency_ms"] = [round(t, 3) for t in ms]
    history = client.get_metric_history(run_id, "loss")
    checks["latency_stored"] = sorted((m.step, m.value) for m in history) == list(enumerate(values))


def _case_batch(client: MlflowClient, figures: dict, samples: dict, checks: dict) -> None:
    rng = random.Random(SEED + 11)
    metrics = [
        Metric(f"m{k}", rng.random(), BASE_TIMESTAMP_MS + step, step)
        for step in range(BATCH_STEPS)
        for k in range(BATCH_KEYS)
    ]
    chunks = [metrics[i : i + BATCH_SIZE] for i in range(0, len(metrics), BATCH_SIZE)]
    exp_id = client.create_experiment("batch")
    rates = []
    for rep in range(BATCH_REPS):
        run_id = client.create_run(exp_id, run_name=f"batch{rep}").info.run_id
        start = time.perf_counter()
        for chunk in chunks:
            client.log_batch(run_id, metrics=chunk)
        rates.append(len(metrics) / (time.perf_counter() - start))
    figures["batch_metrics_per_s"] = max(rates)
    samples["batch_metrics_per_s"] = rates
    stored = sum(len(client.get_metric_history(run_id, f"m{k}")) for k in range(BATCH_KEYS))
    checks["batch_stored"] = stored
    checks["batch_logged"] = len(metrics)


def _case_history(client: MlflowClient, figures: dict, samples: dict, checks: dict) -> None:
    rng = random.Random(SEED + 2)  # the tracking benchmark's case c data
    metrics = [
        Metric("loss", rng.random(), BASE_TIMESTAMP_MS + i, i) for i in range(HISTORY_POINTS)
    ]
    exp_id = client.create_experiment("history")
    run_id = client.create_run(exp_id, run_name="history").info.run_id
    for i in range(0, len(metrics), BATCH_SIZE):
        client.log_batch(run_id, metrics=metrics[i : i + BATCH_SIZE])
    took = []
    for _ in range(QUERY_REPS):
        start = time.perf_counter()
        history = client.get_metric_history(run_id, "loss")
        took.append(time.perf_counter() - start)
    figures["history_s"] = statistics.median(took)
    samples["history_s"] = took
    figures["history_http_s"] = _http_only(
        "GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}
    )
    points = sorted((m.step, m.value) for m in history)
    checks["history_points"] = len(points)
    checks["history_matches_logged"] = points == [(m.step, m.value) for m in metrics]


def _case_search(client: MlflowClient, figures: dict, samples: dict, checks: dict) -> None:
    rng = random.Random(SEED + 3)  # the tracking benchmark's case d data
    runs = []
    for i in range(SEARCH_RUNS):
        params = [Param(f"p{k}", f"v{rng.randrange(SEARCH_PARAM_VALUES)}") for k in range(5)]
        metrics = [Metric(f"m{k}", rng.random(), BASE_TIMESTAMP_MS + i, 0) for k in range(5)]
        runs.append((f"r{i:04d}", params, metrics))
    exp_id = client.create_experiment("search")

    def create(run: tuple[str, list[Param], list[Metric]]) -> None:
        name, params, metrics = run
        run_id = client.create_run(exp_id, run_name=name).info.run_id
        client.log_batch(run_id, metrics=metrics, params=params)

    start = time.perf_counter()
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        list(pool.map(create, runs))
    checks["search_setup_s"] = time.perf_counter() - start
    took = []
    for _ in range(QUERY_REPS):
        start = time.perf_counter()
        found = client.search_runs(
            [exp_id], filter_string=SEARCH_FILTER, max_results=SEARCH_MAX_RESULTS
        )
        took.append(time.perf_counter() - start)
    figures["search_s"] = statistics.median(took)
    samples["search_s"] = took
    body = {
        "experiment_ids": [exp_id],
        "filter": SEARCH_FILTER,
        "max_results": SEARCH_MAX_RESULTS,
        "run_view_type": "ACTIVE_ONLY",
    }
    figures["search_http_s"] = _http_only("POST", "runs/search", json=body)
    checks["search_names"] = sorted(r.info.run_name for r in found)


def _http_only(method: str, endpoint: str, **kwargs: object) -> float:
    """Median seconds of the bare request to ``/api/2.0/mlflow/<endpoint>``, body read."""
    url = f"{mlflow.get_tracking_uri()}/api/2.0/mlflow/{endpoint}"
    took = []
    with requests.Session() as session:
        session.request(method, url, **kwargs).raise_for_status()  # connects
        for _ in range(QUERY_REPS):
            start = time.perf_counter()
            response = session.request(method, url, **kwargs)
            response.content  # noqa: B018 - read the whole body, as the client does
            took.append(time.perf_counter() - start)
            response.raise_for_status()
    return statistics.median(took)


if __name__ == "__main__":
    main()
