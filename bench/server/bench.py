"""Server benchmark: ``mlflow server`` (the anchor) against ``loopml server``.

Both servers run on this machine, one after the other, each on a fresh
SQLite file and artifact folder in a temporary directory, with their default
worker counts (MLflow: 4 uvicorn workers, loopml: 1). The same driver,
``client_side.py``, runs in MLflow's venv against each of them through the
unmodified ``MlflowClient``; ``ingest_side.py`` then drives loopml server
through the loopml SDK from 1 and from 8 processes at once.

    case                                   unit         target
    log_metric latency, median / p95       ms           5x lower
    log_batch 50k metrics, chunks of 1k    metrics/s    5x higher
    get_metric_history of 10k points       s            5x lower
    search_runs filter over 2,000 runs     s            5x lower
    SDK ingest, 1 and 8 processes          metrics/s    >= 100,000 (no anchor)

Through the mlflow client a figure includes the client's own work (protobuf
encoding and parsing, building entities), the same for both servers; for
history and search the notes add the bare HTTP request's time, the server's
share. A loopml figure whose answer differs from MLflow's (points stored,
runs found) is dropped and said why: a wrong answer has no speed. A side that
cannot run (the server's MLflow API or the remote SDK not there yet) leaves
its rows n/a and the reason in the notes.

Figures go to ``bench/.work/server.json``, server and driver output to
``bench/.work/server-*.log``. Run it alone with
``.venv/bin/python bench/server/bench.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
if str(BENCH_DIR) not in sys.path:  # run alone rather than through bench/run.py
    sys.path.insert(0, str(BENCH_DIR))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _anchor import ensure_venv  # noqa: E402
from _process import clean_env, loopml_interpreter, with_path_first  # noqa: E402
from _report import WORK_DIR, Report, Row, load_note, render, write_json  # noqa: E402
from _servers import Server, serve_tracking  # noqa: E402

SPEEDUP = 5.0
CASES = {  # figure of client_side.py: its label and unit
    "latency_median_ms": ("log_metric median", "ms"),
    "latency_p95_ms": ("log_metric p95", "ms"),
    "batch_metrics_per_s": ("log_batch 50k", "metrics/s"),
    "history_s": ("history 10k pts", "s"),
    "search_s": ("search_runs filter", "s"),
}
INGEST_FLOOR = 100_000.0  # metrics/s
INGEST_PROCESSES = (1, 8)
# As in the tracking benchmark: synchronous logging, no telemetry, no noise.
MLFLOW_ENV = {
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
MLFLOW_START_TIMEOUT = 90.0
LOOPML_START_TIMEOUT = 60.0
PROBE_TIMEOUT = 60.0
CLIENT_SIDE_TIMEOUT = 360.0
INGEST_TIMEOUT = 240.0


def run() -> Report:
    """Run both servers in turn and compare; the loopml side may fail without stopping it."""
    mlflow_python = ensure_venv("mlflow", BENCH_DIR / "tracking" / "requirements-mlflow.txt")
    loopml_python = loopml_interpreter()
    load_before = os.getloadavg()[0]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="loopml-bench-server-") as tmp:
        root = Path(tmp)
        anchor = _mlflow_server_side(mlflow_python, root / "mlflow", notes)
        loopml, ingest = _loopml_server_side(mlflow_python, loopml_python, root / "loopml", notes)
    report = _compare(anchor, loopml, ingest, notes)
    report.notes.append(load_note(load_before))
    write_json(report, WORK_DIR / "server.json")
    return report


def _mlflow_server_side(python: Path, work: Path, notes: list[str]) -> dict:
    work.mkdir(parents=True)
    env = with_path_first({**clean_env(), **MLFLOW_ENV}, python)
    with serve_tracking(
        "mlflow",
        python,
        store_uri=f"sqlite:///{work / 'mlflow.db'}",
        work=work,
        env=env,
        log=WORK_DIR / "server-mlflow-server.log",
        timeout=MLFLOW_START_TIMEOUT,
        say=_say,
    ) as server:
        notes.append(f"mlflow server healthy after {server.started_in:.1f} s (4 workers, default)")
        return _client_side(python, server, env, work)


def _loopml_server_side(
    mlflow_python: Path, loopml_python: Path, work: Path, notes: list[str]
) -> tuple[dict | None, dict[int, dict | None]]:
    work.mkdir(parents=True)
    store_uri = f"sqlite:///{work / 'loopml.db'}"
    env = with_path_first({**clean_env(), "LOOPML_HOME": str(work / "home")}, loopml_python)
    ingest: dict[int, dict | None] = dict.fromkeys(INGEST_PROCESSES)
    try:
        with serve_tracking(
            "loopml",
            loopml_python,
            store_uri=store_uri,
            work=work,
            env=env,
            log=WORK_DIR / "server-loopml-server.log",
            timeout=LOOPML_START_TIMEOUT,
            say=_say,
        ) as server:
            notes.append(f"loopml server healthy after {server.started_in:.1f} s (1 worker)")
            mlflow_env = with_path_first({**clean_env(), **MLFLOW_ENV}, mlflow_python)
            loopml = _mlflow_client_against_loopml(mlflow_python, server, mlflow_env, work, notes)
            sdk_env = {**env, "LOOPML_TRACKING_URI": server.url}
            if _probe("loopml SDK", loopml_python, _SDK_PROBE, sdk_env, work, notes):
                for processes in INGEST_PROCESSES:
                    ingest[processes] = _ingest(
                        loopml_python, processes, store_uri, sdk_env, work, notes
                    )
    except RuntimeError as exc:  # the server itself did not start
        notes.append(f"[yellow]loopml server did not run:[/] {exc}")
        return None, ingest
    return loopml, ingest


_MLFLOW_PROBE = "import mlflow; mlflow.set_experiment('probe')"
_SDK_PROBE = "import loopml as lm; lm.set_experiment('probe')"


def _mlflow_client_against_loopml(
    python: Path, server: Server, env: dict[str, str], work: Path, notes: list[str]
) -> dict | None:
    env = {**env, "MLFLOW_TRACKING_URI": server.url}
    # Fail fast if the API is missing or broken, instead of MLflow's retry back-off.
    probe_env = {**env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    if not _probe("mlflow client", python, _MLFLOW_PROBE, probe_env, work, notes):
        return None
    try:
        return _client_side(python, server, env, work)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        notes.append(f"[yellow]mlflow client against loopml server failed:[/] {exc}")
        return None


def _probe(
    what: str, python: Path, code: str, env: dict[str, str], work: Path, notes: list[str]
) -> bool:
    """Whether ``code`` (one call through ``what``) succeeds against the server."""
    try:
        proc = subprocess.run(
            [str(python), "-c", code],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        notes.append(f"[yellow]{what} against loopml server: no answer in {PROBE_TIMEOUT:.0f} s[/]")
        return False
    if proc.returncode == 0:
        return True
    last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    notes.append(f"[yellow]{what} against loopml server not available:[/] {last[:300]}")
    return False


def _client_side(python: Path, server: Server, env: dict[str, str], work: Path) -> dict:
    out = work / f"client-{server.name}.json"
    log = WORK_DIR / f"server-client-{server.name}.log"
    _say(f"running the mlflow client against {server.name} server ...")
    with log.open("w") as stream:
        proc = subprocess.run(
            [str(python), str(HERE / "client_side.py"), str(out)],
            cwd=work,
            env={**env, "MLFLOW_TRACKING_URI": server.url},
            stdout=stream,
            stderr=subprocess.STDOUT,
            timeout=CLIENT_SIDE_TIMEOUT,
            check=False,
        )
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"the mlflow client failed ({proc.returncode}); {log}:\n{tail}")
    result: dict = json.loads(out.read_text())
    return result


def _ingest(
    python: Path,
    processes: int,
    store_uri: str,
    env: dict[str, str],
    work: Path,
    notes: list[str],
) -> dict | None:
    out = work / f"ingest-{processes}.json"
    log = WORK_DIR / f"server-ingest-{processes}.log"
    _say(f"running the loopml SDK ingest from {processes} process(es) ...")
    with log.open("w") as stream:
        try:
            proc = subprocess.run(
                [str(python), str(HERE / "ingest_side.py"), str(out), str(processes), store_uri],
                cwd=work,
                env=env,
                stdout=stream,
                stderr=subprocess.STDOUT,
                timeout=INGEST_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            notes.append(f"[red]ingest x{processes}: no result in {INGEST_TIMEOUT:.0f} s[/]")
            return None
    if proc.returncode != 0 or not out.exists():
        tail = (log.read_text().strip().splitlines() or ["(no output)"])[-1]
        notes.append(f"[red]ingest x{processes} failed ({proc.returncode}):[/] {tail[:300]}")
        return None
    result: dict = json.loads(out.read_text())
    return result


def _compare(
    anchor: dict, loopml: dict | None, ingest: dict[int, dict | None], notes: list[str]
) -> Report:
    figures = anchor["figures"]
    ours = _trusted_figures(anchor, loopml, notes)
    rows = [
        Row(label, figures[key], ours.get(key), SPEEDUP, unit)
        for key, (label, unit) in CASES.items()
    ]
    for processes, result in ingest.items():
        rate = None if result is None else result["metrics_per_s"]
        rows.append(
            Row(
                f"SDK ingest x{processes}",
                None,
                rate,
                None,
                "metrics/s",
                floor=INGEST_FLOOR,
            )
        )
        if result is not None:
            notes.append(
                f"ingest x{processes}: {result['stored_at_end']:,} of {result['logged']:,} "
                f"points stored when the last end_run returned, {result['wall_s']:.1f} s "
                "after the first start_run"
            )
            if result["stored"] != result["logged"]:
                notes.append(
                    f"[red]ingest x{processes}: {result['stored']:,} points stored in the end[/]"
                )
    notes.append(f"MLflow env: {' '.join(f'{k}={v}' for k, v in MLFLOW_ENV.items())}")
    return Report(
        name="server",
        anchor=f"mlflow server {anchor['client_version']}",
        loopml="loopml server" + ("" if loopml else " (mlflow API did not run)"),
        rows=rows,
        notes=notes,
        details={"mlflow": anchor, "loopml": loopml, "ingest": ingest},
    )


def _trusted_figures(anchor: dict, loopml: dict | None, notes: list[str]) -> dict[str, float]:
    """loopml's figures whose answers agree with MLflow's; say why for each one dropped."""
    if loopml is None:
        return {}
    figures = dict(loopml["figures"])
    ours, theirs = loopml["checks"], anchor["checks"]
    if not ours["latency_stored"]:
        notes.append("[red]latency: loopml's history is not the points logged[/]")
        figures.pop("latency_median_ms"), figures.pop("latency_p95_ms")
    if ours["batch_stored"] != ours["batch_logged"]:
        notes.append(f"[red]log_batch: loopml stored {ours['batch_stored']:,} points[/]")
        figures.pop("batch_metrics_per_s")
    if not ours["history_matches_logged"]:
        notes.append(f"[red]history: loopml returned {ours['history_points']:,} points[/]")
        figures.pop("history_s")
    for case, label in (("history", "history"), ("search", "search_runs")):
        notes.append(_client_share(label, anchor["figures"], loopml["figures"], case))
    found = len(ours["search_names"]), len(theirs["search_names"])
    if ours["search_names"] != theirs["search_names"]:
        notes.append(f"[red]search: loopml found {found[0]} runs, mlflow {found[1]}[/]")
        figures.pop("search_s")
    else:
        notes.append(f"search: both servers found the same {found[0]} of 2,000 runs")
    notes.append(
        "untimed set-up of the 2,000 searched runs (4 client threads): "
        f"mlflow {theirs['search_setup_s']:.0f} s, loopml {ours['search_setup_s']:.0f} s"
    )
    return figures


def _client_share(label: str, theirs: dict, ours: dict, case: str) -> str:
    """The case as the bare HTTP request, and what the mlflow client adds to it."""
    http = theirs[f"{case}_http_s"], ours[f"{case}_http_s"]
    client = ours[f"{case}_s"] - http[1]
    return (
        f"{label}, bare HTTP request (no mlflow-client parsing): mlflow {http[0]:.4f} s, "
        f"loopml {http[1]:.4f} s ({http[0] / http[1]:.1f}x); the mlflow client's own share "
        f"of loopml's figure: {client:.4f} s ({client / ours[f'{case}_s']:.0%})"
    )


def _say(message: str) -> None:
    print(f"server: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    render(run())
