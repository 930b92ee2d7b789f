"""The tracking cases, run the same way against any tracker.

This module is the driver shared by ``mlflow_side.py`` (MLflow's venv) and
``loopml_side.py`` (the project venv), so it uses the standard library only.
Each side wraps its library in a ``Tracker``; the driver builds the seeded
data, does the untimed set-up and warm-up, times the cases with the same code
and writes the seconds plus a few result checks as JSON:

    python <side>.py OUT_JSON WORK_DIR

Only the library calls are timed: building Metric/Param objects, creating
the database and the warm-up are not. Each figure is the median of a few
repetitions (the machine is shared, so single samples are noisy).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

SEED = 20240601
BASE_TIMESTAMP_MS = 1_700_000_000_000
BATCH_SIZE = 1_000  # MLflow's per-call limit for metrics in log_batch
FLUENT_METRICS = 1_000  # case a
FLUENT_REPS = 3
BATCH_KEYS = 10  # case b: 10 keys x 10,000 steps = 100,000 metrics
BATCH_STEPS = 10_000
BATCH_REPS = 3
HISTORY_POINTS = 10_000  # case c
SEARCH_RUNS = 2_000  # case d
SEARCH_PARAM_VALUES = 10
QUERY_REPS = 7
SEARCH_FILTER = "metrics.m0 > 0.5 and params.p1 = 'v3'"
SEARCH_ORDER = ["metrics.m1 DESC"]
SEARCH_MAX_RESULTS = 1_000


class MetricRow(NamedTuple):
    key: str
    value: float
    timestamp: int
    step: int


class Tracker(Protocol):
    """One tracking library, as the cases need it."""

    name: str
    version: str

    def setup(self, work_dir: Path) -> None:
        """Point the library at a fresh SQLite store in ``work_dir`` and create it."""

    def set_experiment(self, name: str) -> None:
        """Make ``name`` the active experiment of the fluent API (creating it)."""

    def fluent_run(self, experiment: str, run_name: str, key: str, values: Sequence[float]) -> str:
        """start_run; log_metric(key, value, step=i) for each value; end the run; its id."""

    def create_experiment(self, name: str) -> str: ...

    def create_run(self, experiment_id: str, run_name: str) -> str: ...

    def make_metrics(self, rows: Sequence[MetricRow]) -> object:
        """The library's metric objects for ``rows``, ready for ``log_batch``."""

    def make_params(self, params: dict[str, str]) -> object: ...

    def log_batch(self, run_id: str, metrics: object, params: object) -> None: ...

    def get_metric_history(self, run_id: str, key: str) -> object: ...

    def history_points(self, history: object) -> list[tuple[int, float]]:
        """(step, value) pairs of what ``get_metric_history`` returned."""

    def search_runs(self, experiment_id: str, filter_string: str, order_by: list[str]) -> object:
        """search_runs over one experiment, max_results=SEARCH_MAX_RESULTS."""

    def run_names(self, runs: object) -> list[str]:
        """Names of what ``search_runs`` returned, in its order."""


def main(tracker: Tracker) -> None:
    out, work_dir = Path(sys.argv[1]), Path(sys.argv[2])
    work_dir.mkdir(parents=True, exist_ok=True)
    tracker.setup(work_dir)
    _warm_up(tracker)
    seconds: dict[str, float] = {}
    samples: dict[str, list[float]] = {}
    checks: dict[str, object] = {}
    for case in (_case_fluent, _case_batch, _case_history, _case_search):
        case(tracker, samples, checks)
    for name, values in samples.items():
        seconds[name] = statistics.median(values)
    result = {
        "tool": tracker.name,
        "version": tracker.version,
        "seconds": seconds,
        "samples": samples,
        "checks": checks,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")


def _timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _warm_up(tracker: Tracker) -> None:
    # Pays lazy imports, statement compilation and connection set-up for every
    # code path the cases use, so the timed cases measure steady-state work.
    tracker.set_experiment("warmup")
    tracker.fluent_run("warmup", "warmup", "loss", [0.5] * 10)
    exp_id = tracker.create_experiment("warmup-client")
    run_id = tracker.create_run(exp_id, "warmup")
    rows = [MetricRow("m0", 0.5, BASE_TIMESTAMP_MS, i) for i in range(10)]
    tracker.log_batch(run_id, tracker.make_metrics(rows), tracker.make_params({"p1": "v3"}))
    tracker.history_points(tracker.get_metric_history(run_id, "m0"))
    tracker.run_names(tracker.search_runs(exp_id, SEARCH_FILTER, []))
    tracker.run_names(tracker.search_runs(exp_id, SEARCH_FILTER, SEARCH_ORDER))


def _case_fluent(tracker: Tracker, samples: dict, checks: dict) -> None:
    """a: 1,000 log_metric calls, timed from start_run to the end of the run."""
    rng = random.Random(SEED)
    values = [rng.random() for _ in range(FLUENT_METRICS)]
    tracker.set_experiment("bench")
    samples["a"] = []
    for rep in range(FLUENT_REPS):
        elapsed, run_id = _timed(
            lambda rep=rep: tracker.fluent_run("bench", f"a{rep}", "loss", values)
        )
        samples["a"].append(elapsed)
    points = sorted(tracker.history_points(tracker.get_metric_history(str(run_id), "loss")))
    checks["a_matches_logged"] = points == list(enumerate(values))


def _case_batch(tracker: Tracker, samples: dict, checks: dict) -> None:
    """b: 100,000 metrics through log_batch in chunks of 1,000."""
    rng = random.Random(SEED + 1)
    rows = [
        MetricRow(f"m{k}", rng.random(), BASE_TIMESTAMP_MS + step, step)
        for step in range(BATCH_STEPS)
        for k in range(BATCH_KEYS)
    ]
    chunks = [
        tracker.make_metrics(rows[i : i + BATCH_SIZE]) for i in range(0, len(rows), BATCH_SIZE)
    ]
    no_params = tracker.make_params({})
    exp_id = tracker.create_experiment("batch")
    samples["b"] = []
    for rep in range(BATCH_REPS):  # each into a fresh run
        run_id = tracker.create_run(exp_id, f"b{rep}")
        start = time.perf_counter()
        for chunk in chunks:
            tracker.log_batch(run_id, chunk, no_params)
        samples["b"].append(time.perf_counter() - start)
    checks["b_metrics"] = len(rows)


def _case_history(tracker: Tracker, samples: dict, checks: dict) -> None:
    """c: get_metric_history of one metric with 10,000 points."""
    rng = random.Random(SEED + 2)
    rows = [
        MetricRow("loss", rng.random(), BASE_TIMESTAMP_MS + i, i) for i in range(HISTORY_POINTS)
    ]
    exp_id = tracker.create_experiment("history")
    run_id = tracker.create_run(exp_id, "c")
    no_params = tracker.make_params({})
    for i in range(0, len(rows), BATCH_SIZE):
        tracker.log_batch(run_id, tracker.make_metrics(rows[i : i + BATCH_SIZE]), no_params)
    samples["c"] = []
    for _ in range(QUERY_REPS):
        elapsed, history = _timed(lambda: tracker.get_metric_history(run_id, "loss"))
        samples["c"].append(elapsed)
    points = sorted(tracker.history_points(history))
    checks["c_points"] = len(points)
    checks["c_matches_logged"] = points == [(r.step, r.value) for r in rows]


def _case_search(tracker: Tracker, samples: dict, checks: dict) -> None:
    """d: filtered search, then filtered and ordered, over 2,000 runs."""
    rng = random.Random(SEED + 3)
    exp_id = tracker.create_experiment("search")
    for i in range(SEARCH_RUNS):
        params = {f"p{k}": f"v{rng.randrange(SEARCH_PARAM_VALUES)}" for k in range(5)}
        rows = [MetricRow(f"m{k}", rng.random(), BASE_TIMESTAMP_MS + i, 0) for k in range(5)]
        run_id = tracker.create_run(exp_id, f"r{i:04d}")
        tracker.log_batch(run_id, tracker.make_metrics(rows), tracker.make_params(params))
    for case, order_by in (("d_filter", []), ("d_order", SEARCH_ORDER)):
        samples[case] = []
        for _ in range(QUERY_REPS):
            elapsed, runs = _timed(
                lambda order_by=order_by: tracker.search_runs(exp_id, SEARCH_FILTER, order_by)
            )
            samples[case].append(elapsed)
        checks[f"{case}_names"] = tracker.run_names(runs)
