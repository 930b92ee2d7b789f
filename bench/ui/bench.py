"""UI benchmark: the pages of ``loopml server`` against the API calls of MLflow's UI.

One experiment of 10,000 runs, each with 50 params and the latest value of 50
metrics, one of them with a 100,000-point metric, loaded from the same seeded
generator (``_ui_data.py``) into a loopml and an MLflow SQLite store, each with
its own bulk path (``load_loopml.py``, ``load_mlflow.py``; cached under
``bench/ui/.cache/``, so only the first run loads). Then ``loopml server`` (1
worker) and ``mlflow server`` (4 workers, its default) serve a copy of their
store in turn, and the same client on loopback times each view (``_ui_views.py``
says which requests MLflow's UI makes for it):

    view                                    loopml                       target
    runs table, first 100 runs              the page, and its htmx part   <= 300 ms, 5x
    runs table sorted by a metric           the page                      <= 300 ms, 5x
    compare 100 runs                        the page, 3 metric charts     <= 300 ms, 5x
    run page with a 100,000-point metric    the page, its chart's data    <= 300 ms, 5x

A figure is the median of LOOPML_BENCH_UI_REPEAT (15) requests after 2 untimed
ones, in ms; a view of several requests adds their medians (the browser may
send them at once: this is its cost on one worker). Both servers must answer
with the same runs, or the view's loopml figure is dropped and the notes say why.

    LOOPML_BENCH_UI_RUNS=500      a smaller experiment (smoke run; default 10,000)
    LOOPML_BENCH_UI_POINTS=10000  a shorter big metric (default 100,000)
    LOOPML_BENCH_UI_MLFLOW=0      loopml only: no MLflow venv, store or server

Figures go to ``bench/.work/ui.json``, server and loader output to
``bench/.work/ui-*.log``. Run it alone with ``.venv/bin/python bench/ui/bench.py``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
REPO = BENCH_DIR.parent
for _path in (BENCH_DIR, HERE):  # run alone rather than via run.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _anchor import ensure_venv  # noqa: E402
from _process import clean_env, loopml_interpreter, with_path_first  # noqa: E402
from _report import WORK_DIR, Report, Row, load_note, render, write_json  # noqa: E402
from _servers import Server, serve_tracking  # noqa: E402
from _ui_data import BIG_KEY, Size, run_name  # noqa: E402
from _ui_http import Client, Request, Timing  # noqa: E402
from _ui_stores import Store, cached_store, file_shape, loopml_shape, working_copy  # noqa: E402
from _ui_views import PAGE_RUNS, SORT_KEY, Stores, View, views  # noqa: E402

PAGE_FLOOR_MS = 300.0
SPEEDUP = 5.0
WARMUP = 2
MLFLOW_REQUIREMENTS = BENCH_DIR / "tracking" / "requirements-mlflow.txt"
MLFLOW_ENV = {  # as the other benchmarks: no telemetry, no noise
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
}
MLFLOW_START_TIMEOUT = 120.0
MLFLOW_WORKERS = 4  # mlflow server's default
LOOPML_START_TIMEOUT = 90.0
_RUN_NAME = re.compile(rb"run-\d{5}")


def run() -> Report:
    """Load (or find) both stores, serve each in turn, time every view, compare."""
    size = Size.from_env()
    repeat = int(os.environ.get("LOOPML_BENCH_UI_REPEAT", "15"))
    with_mlflow = os.environ.get("LOOPML_BENCH_UI_MLFLOW", "1") != "0"
    loopml_python = loopml_interpreter()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="loopml-bench-ui-") as tmp:
        root = Path(tmp)
        loopml_env = {**clean_env(), "LOOPML_HOME": str(root / "loopml-home")}
        ours = cached_store(
            "loopml",
            loopml_python,
            size,
            loopml_shape(REPO),
            loopml_env,
            WORK_DIR / "ui-load-loopml.log",
        )
        theirs: Store | None = None
        mlflow_python: Path | None = None
        if with_mlflow:
            mlflow_python = ensure_venv("mlflow", MLFLOW_REQUIREMENTS)
            theirs = cached_store(
                "mlflow",
                mlflow_python,
                size,
                file_shape(MLFLOW_REQUIREMENTS),
                {**clean_env(), **MLFLOW_ENV},
                WORK_DIR / "ui-load-mlflow.log",
            )
        for store in (ours, theirs):
            if store is not None:
                notes.append(_load_note(store))
        stores = Stores(
            ours.manifest["experiment_id"],
            ours.manifest["run_ids"],
            theirs.manifest["experiment_id"] if theirs else "",
            theirs.manifest["run_ids"] if theirs else _placeholder_ids(size),
        )
        all_views = views(size, stores)
        loopml = _time_loopml(loopml_python, ours, root, loopml_env, all_views, repeat, notes)
        mlflow: dict[str, list[Timing]] | None = None
        if theirs is not None and mlflow_python is not None:
            mlflow = _time_mlflow(mlflow_python, theirs, root, all_views, repeat, notes)
    report = _report(size, all_views, loopml, mlflow, ours, theirs, repeat, notes)
    report.notes.append(load_note(load_before))
    write_json(report, WORK_DIR / "ui.json")
    return report


def _placeholder_ids(size: Size) -> dict[str, str]:
    # loopml alone: MLflow's requests are built but never sent.
    return {run_name(i): f"{i:032x}" for i in range(size.runs)}


def _load_note(store: Store) -> str:
    if store.cached:
        return f"{store.side} store from the cache ({store.db.parent.name})"
    return (
        f"{store.side} store loaded in {store.manifest['load_wall_s']:.0f} s "
        f"({store.manifest['load_s']:.0f} s writing), now cached in {store.db.parent.name}"
    )


def _time_loopml(
    python: Path,
    store: Store,
    root: Path,
    env: dict[str, str],
    all_views: list[View],
    repeat: int,
    notes: list[str],
) -> dict[str, list[Timing]]:
    with _serve("loopml", python, store, root, env, LOOPML_START_TIMEOUT) as server:
        notes.append(f"loopml server healthy after {server.started_in:.1f} s (1 worker)")
        return _time_views(
            "loopml", server.url, [(v.key, v.loopml) for v in all_views], repeat, notes
        )


def _time_mlflow(
    python: Path,
    store: Store,
    root: Path,
    all_views: list[View],
    repeat: int,
    notes: list[str],
) -> dict[str, list[Timing]]:
    env = {**clean_env(), **MLFLOW_ENV}
    with _serve("mlflow", python, store, root, env, MLFLOW_START_TIMEOUT) as server:
        ready = _wait_for_workers(server.log, MLFLOW_WORKERS, MLFLOW_START_TIMEOUT)
        notes.append(
            f"mlflow server healthy after {server.started_in:.1f} s, its {MLFLOW_WORKERS} "
            f"workers (the default) up after {server.started_in + ready:.1f} s"
        )
        return _time_views(
            "mlflow", server.url, [(v.key, v.mlflow) for v in all_views], repeat, notes
        )


@contextmanager
def _serve(
    tool: str, python: Path, store: Store, root: Path, env: dict[str, str], timeout: float
) -> Iterator[Server]:
    """``tool``'s server over a working copy of its store (the cached one stays as loaded)."""
    work = root / tool
    db = working_copy(store, work)
    with serve_tracking(
        tool,
        python,
        store_uri=f"sqlite:///{db}",
        work=work,
        env=with_path_first(env, python),
        log=WORK_DIR / f"ui-{tool}-server.log",
        timeout=timeout,
        say=_say,
    ) as server:
        yield server


def _wait_for_workers(log: Path, workers: int, timeout: float) -> float:
    """Seconds until ``workers`` uvicorn workers have started (timed before that, a
    request waits on a worker still importing, or on one its supervisor restarts)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if log.read_text(errors="replace").count("Application startup complete") >= workers:
            return time.monotonic() - start
        time.sleep(0.25)
    raise RuntimeError(f"mlflow server: {workers} workers not up after {timeout:.0f} s; {log}")


def _time_views(
    name: str, url: str, requests: list[tuple[str, list[Request]]], repeat: int, notes: list[str]
) -> dict[str, list[Timing]]:
    client = Client(url)
    try:
        timings = {key: [client.time(r, WARMUP, repeat) for r in reqs] for key, reqs in requests}
    finally:
        client.close()
    if client.reconnects:
        notes.append(f"{name} server dropped the connection {client.reconnects} time(s)")
    return timings


def _report(
    size: Size,
    all_views: list[View],
    loopml: dict[str, list[Timing]],
    mlflow: dict[str, list[Timing]] | None,
    ours: Store,
    theirs: Store | None,
    repeat: int,
    notes: list[str],
) -> Report:
    wrong = _check(size, loopml, mlflow, notes)
    rows = []
    for view in all_views:
        mine = None if view.key in wrong else sum(t.median_ms for t in loopml[view.key])
        anchor = None if mlflow is None else sum(t.median_ms for t in mlflow[view.key])
        target = SPEEDUP if mlflow is not None else None  # loopml alone: only the floor
        rows.append(Row(view.label, anchor, mine, target, "ms", floor=PAGE_FLOOR_MS))
    notes.append(
        f"ms: median of {repeat} requests after {WARMUP} untimed, client on loopback, one "
        f"keep-alive connection; a view of several requests adds their medians"
    )
    notes.append(
        "MLflow's requests per view are those its 3.17 UI makes (see bench/ui/_ui_views.py); "
        f"loopml's runs page asks for {PAGE_RUNS} rows, MLflow's page size"
    )
    if not any(t.server_timing_ms is not None for ts in loopml.values() for t in ts):
        notes.append("no Server-Timing header from loopml server: figures are client wall times")
    details: dict[str, object] = {
        "size": asdict(size),
        "loopml": {k: [_timing_json(t) for t in ts] for k, ts in loopml.items()},
        "mlflow": None
        if mlflow is None
        else {k: [_timing_json(t) for t in ts] for k, ts in mlflow.items()},
        "loads": {s.side: s.manifest.get("load_s") for s in (ours, theirs) if s is not None},
    }
    return Report(
        name="ui",
        anchor=f"mlflow server {theirs.manifest['version']}" if theirs else "mlflow (skipped)",
        loopml=f"loopml server {ours.manifest['version']}",
        rows=rows,
        notes=notes,
        details=details,
    )


def _timing_json(timing: Timing) -> dict[str, object]:
    return {
        "request": timing.label,
        "median_ms": round(timing.median_ms, 2),
        "min_ms": round(timing.min_ms, 2),
        "max_ms": round(timing.max_ms, 2),
        "bytes": timing.response_bytes,
        "server_timing_ms": timing.server_timing_ms,
    }


def _check(
    size: Size,
    loopml: dict[str, list[Timing]],
    mlflow: dict[str, list[Timing]] | None,
    notes: list[str],
) -> set[str]:
    """Views whose loopml answer is not the data loaded (or not MLflow's answer)."""
    wrong: set[str] = set()

    def fail(view: str, why: str) -> None:
        wrong.add(view)
        notes.append(f"[red]{view}: {why}; its loopml figure is dropped[/]")

    newest = [run_name(i) for i in range(size.runs - 1, max(-1, size.runs - 1 - PAGE_RUNS), -1)]
    if _names(loopml["runs"][0].body) != newest:
        fail("runs", "the page does not list the newest runs, newest first")
    if _names(loopml["runs_partial"][0].body) != newest:
        fail("runs_partial", "the partial does not list the newest runs, newest first")
    compared = [run_name(i) for i in size.compared()]
    if set(_names(loopml["compare"][0].body)) != set(compared):
        fail("compare", "the page does not show the compared runs")
    for timing in loopml["compare_charts"]:
        if len(json.loads(timing.body)["series"]) != len(compared):
            fail("compare_charts", f"{timing.label} has not one series per run")
    if run_name(size.big_run).encode() not in loopml["run"][0].body:
        fail("run", "the page does not name the run")
    chart = json.loads(loopml["run_chart"][0].body)
    if chart["total"] != size.big_points or len(chart["steps"]) > 2000:
        fail("run_chart", f"{chart['total']} points in all, {len(chart['steps'])} sent")
    else:
        notes.append(
            f"run chart: loopml sends {len(chart['steps']):,} of {chart['total']:,} points "
            "(min/max per bucket)"
        )
    if mlflow is None:
        return wrong
    theirs = {k: _mlflow_names(mlflow[k][0].body) for k in ("runs", "runs_sorted", "compare")}
    if theirs["runs"] != newest:
        notes.append("[red]mlflow's runs table is not the newest runs: check the load[/]")
    if _names(loopml["runs_sorted"][0].body) != theirs["runs_sorted"]:
        fail("runs_sorted", f"not the runs MLflow lists by metrics.{SORT_KEY} DESC")
    if sorted(theirs["compare"]) != sorted(compared):
        notes.append("[red]mlflow's compare search did not find the compared runs[/]")
    sampled = json.loads(mlflow["run_chart"][0].body).get("metrics", [])
    notes.append(
        f"run chart: mlflow's get-history-bulk-interval sends {len(sampled):,} points of "
        f"{BIG_KEY} (max_results=320)"
    )
    graphql = json.loads(mlflow["run"][0].body)
    if graphql.get("errors") or graphql["data"]["mlflowGetRun"].get("apiError"):
        notes.append(f"[red]mlflow's GetRun answered an error: {str(graphql)[:200]}[/]")
    return wrong


def _names(html: bytes) -> list[str]:
    """Run names on a page, in the order they first appear."""
    return [n.decode() for n in dict.fromkeys(_RUN_NAME.findall(html))]


def _mlflow_names(body: bytes) -> list[str]:
    return [r["info"]["run_name"] for r in json.loads(body).get("runs", [])]


def _say(message: str) -> None:
    print(f"ui: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    render(run())
