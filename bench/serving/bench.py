"""Serving benchmark: ``mlflow models serve`` (the anchor) against ``loopml serve``.

One scikit-learn model (the packaging benchmark's seeded StandardScaler +
LogisticRegression on 20 numeric features) is fitted once and saved twice,
with ``loopml.models.save_model`` and, in MLflow's venv, with
``mlflow.sklearn.save_model`` (``prepare_*.py``). Both servers run on this
machine in one run, one at a time, with one worker each (both defaults):

    mlflow models serve -m DIR --env-manager local -p PORT --workers 1
    loopml serve DIR --port PORT --workers 1 --no-prediction-log

loopml's model is saved with ``save_model(..., onnx=True)``: the same
estimator plus its skl2onnx conversion, verified on the input example when
saved, so the server answers from ONNX Runtime while scikit-learn loads.

and get the same bytes, ``POST /invocations`` with a one-row
``dataframe_split``, from a load generator in its own process
(``load_side.py``):

    case                                            unit    target
    cold start: spawn -> first 200 on /invocations  s       3x lower
      (starts alternate between the servers; MLflow's median against
      loopml's first start, on an empty LOOPML_HOME)
    restart: the same again                         s       (shown, no target)
    1-row latency p50 / p99, 2,000 sequential       ms      p50 5x lower
      requests on one keep-alive connection
    throughput, 16 keep-alive clients, 10 s         req/s   10x higher

A loopml server whose predictions differ from the model's own has its
figures dropped (a wrong answer has no speed). For information, without
targets, ``loopml serve`` is measured once more on the model saved without
``onnx=True`` (its first start converts in the background and keeps the
conversion for the next), with its prediction log on
(its default; the notes say how many rows the log holds afterwards) and once
with ``--no-onnx`` (scikit-learn's own predict, no conversion at start-up).
If ``loopml serve`` is missing or fails, its rows stay n/a with the reason.

Figures go to ``bench/.work/serving.json``, server and driver output to
``bench/.work/serving-*.log``. Run it alone with
``.venv/bin/python bench/serving/bench.py``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
for _path in (BENCH_DIR, HERE):  # run alone rather than through bench/run.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _anchor import ensure_venv  # noqa: E402
from _launch import Server, serve  # noqa: E402
from _process import clean_env, free_port, loopml_interpreter, with_path_first  # noqa: E402
from _report import WORK_DIR, Report, Row, render, write_json  # noqa: E402
from load_side import bodies  # noqa: E402

COLD_STARTS = 3
SEQUENTIAL = 2_000
CLIENTS = 16
CLIENT_PROCESSES = 1  # the 16 connections run on one asyncio loop; its CPU use is reported
THROUGHPUT_SECONDS = 10.0
THROUGHPUT_SETUP_SECONDS = 2.0  # processes start, connect and warm up before the window
WORKERS = 1
LOOPML_VARIANTS = {  # name: (model folder, extra `loopml serve` flags)
    # The one compared with the targets: the model saved with onnx=True.
    "loopml": ("loopml-model", ["--no-prediction-log"]),
    # The same estimator saved without onnx=True: converted in the background at start.
    "loopml-plain": ("loopml-model-plain", ["--no-prediction-log"]),
    # Prediction log on (the CLI's default), into a fresh SQLite store.
    "loopml-logged": ("loopml-model", []),
    # scikit-learn's own predict, no ONNX at all.
    "loopml-native": ("loopml-model-plain", ["--no-prediction-log", "--no-onnx"]),
}
VARIANT_LABELS = {
    "loopml-plain": "saved without onnx=True",
    "loopml-logged": "log on",
    "loopml-native": "--no-onnx",
}
TARGETS = {"cold": 3.0, "p50": 5.0, "throughput": 10.0}
MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
}
START_TIMEOUT = 120.0
PREPARE_TIMEOUT = 600.0
LATENCY_TIMEOUT = 600.0


class Side(NamedTuple):
    """One server to measure: how to start it on a port, in which environment.

    A NamedTuple, not a dataclass: ``bench/run.py`` loads this file without
    registering it in ``sys.modules``, which dataclasses need.
    """

    name: str
    command: Callable[[int], list[str]]
    env: dict[str, str]


def run() -> Report:
    """Prepare the model, measure both servers in turn, compare."""
    mlflow_python = ensure_venv(
        "mlflow-sklearn", BENCH_DIR / "models" / "requirements-mlflow-sklearn.txt"
    )
    loopml_python = loopml_interpreter()
    load_before = os.getloadavg()[0]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="loopml-bench-serving-") as tmp:
        work = Path(tmp)
        spec = _prepare(loopml_python, mlflow_python, work, notes)
        mlflow_side = _mlflow_side(mlflow_python, work)
        if _loopml_serve_missing(loopml_python, notes):
            results = _measure([mlflow_side], loopml_python, work, notes)
        else:
            main = _loopml_side("loopml", loopml_python, work)
            results = _measure([mlflow_side, main], loopml_python, work, notes)
            if "loopml" in results:  # the variants, once each, for information
                for name in ("loopml-plain", "loopml-logged", "loopml-native"):
                    side = _loopml_side(name, loopml_python, work)
                    results |= _measure([side], loopml_python, work, notes, cold_starts=1)
                if "loopml-logged" in results:
                    notes.append(_logged_rows(loopml_python, work, results["loopml-logged"]))
    notes += [_predict_path(name) for name in results if name.startswith("loopml")]
    report = _compare(spec, results, notes)
    report.notes.append(
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable); server and load "
        "generator share them, and figures from a busy machine are noisy"
    )
    write_json(report, WORK_DIR / "serving.json")
    return report


def _prepare(loopml: Path, mlflow: Path, work: Path, notes: list[str]) -> dict[str, Any]:
    _say("fitting the model and saving it for both servers ...")
    _run_script("prepare-loopml", [str(loopml), str(HERE / "prepare_loopml.py"), str(work)], work)
    env = {**clean_env(), **MLFLOW_ENV}
    _run_script(
        "prepare-mlflow", [str(mlflow), str(HERE / "prepare_mlflow.py"), str(work)], work, env
    )
    spec: dict[str, Any] = json.loads((work / "requests.json").read_text())
    saved = json.loads((work / "mlflow.json").read_text())
    if saved["predictions"] != spec["expected"]:
        raise RuntimeError("the model handed to MLflow predicts differently from the one fitted")
    spec["mlflow_version"] = saved["mlflow_version"]
    notes.append(
        "model: StandardScaler + LogisticRegression, 20 features, fitted once; MLflow's copy "
        "(skops hand-over) predicts the same labels on all request rows"
    )
    return spec


def _mlflow_side(python: Path, work: Path) -> Side:
    env = with_path_first({**clean_env(), **MLFLOW_ENV}, python)
    mlflow = str(python.parent / "mlflow")
    model = str(work / "mlflow-model")

    def command(port: int) -> list[str]:
        return [
            *(mlflow, "models", "serve", "-m", model, "--env-manager", "local"),
            *("--host", "127.0.0.1", "-p", str(port), "--workers", str(WORKERS)),
        ]

    return Side("mlflow", command, env)


def _loopml_serve_missing(python: Path, notes: list[str]) -> bool:
    """Whether this loopml lacks ``loopml serve`` (and why, in the notes)."""
    probe = subprocess.run(
        [str(python.parent / "loopml"), "serve", "--help"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode == 0:
        return False
    # Typer frames its errors in a box: keep the words, not the border.
    words = [line.strip("│╭╮╰╯─ ") for line in (probe.stderr + probe.stdout).splitlines()]
    last = ([w for w in words if w] or ["(no output)"])[-1]
    notes.append(f"[yellow]loopml serve not available:[/] {last[:300]}")
    return True


def _loopml_side(name: str, python: Path, work: Path) -> Side:
    """``loopml serve`` as measured (``loopml``) or one of its variants (``LOOPML_VARIANTS``)."""
    loopml = str(python.parent / "loopml")
    folder, flags = LOOPML_VARIANTS[name]
    env = with_path_first({**clean_env(), "LOOPML_HOME": str(work / f"home-{name}")}, python)
    if "--no-prediction-log" not in flags:  # the log needs a store: a fresh SQLite one
        env["LOOPML_TRACKING_URI"] = f"sqlite:///{work / f'{name}.db'}"
    model = str(work / folder)

    def command(port: int) -> list[str]:
        return [
            *(loopml, "serve", model, "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", str(WORKERS), *flags),
        ]

    return Side(name, command, env)


_COUNT_LOGGED = (
    "import sys, loopml.deployments as d; "
    "print(len(d.read_predictions(sys.argv[1], with_labels=False)))"
)


def _logged_rows(python: Path, work: Path, result: dict[str, Any]) -> str:
    """How many predictions the logged server's log holds, beside how many it answered."""
    env = _loopml_side("loopml-logged", python, work).env
    proc = subprocess.run(
        [str(python), "-c", _COUNT_LOGGED, "loopml-model"],  # logged under the folder's name
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    answered = len(result["latency"]["predictions"]) + SEQUENTIAL
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return f"[yellow]loopml-logged: could not read its prediction log:[/] {last[:300]}"
    return (
        f"loopml-logged: its prediction log holds {int(proc.stdout.split()[-1]):,} rows after "
        f"{answered:,} sequential and {result['throughput']['ok']:,} counted concurrent "
        "requests (plus probes and warm-up)"
    )


def _measure(
    sides: list[Side],
    loopml_python: Path,
    work: Path,
    notes: list[str],
    cold_starts: int = COLD_STARTS,
) -> dict[str, dict[str, Any]]:
    """Start each side ``cold_starts`` times, alternating; load the last start of each."""
    probe = bodies(work / "requests.json")[0]
    live = list(sides)
    results: dict[str, dict[str, Any]] = {side.name: {"cold_starts": []} for side in live}
    for attempt in range(cold_starts):
        for side in list(live):
            port = free_port()
            _say(f"starting {side.name} ({attempt + 1}/{cold_starts}) on port {port} ...")
            try:
                with serve(
                    side.name,
                    side.command(port),
                    port=port,
                    body=probe,
                    env=side.env,
                    cwd=work,
                    log=WORK_DIR / f"serving-{side.name}.log",
                    timeout=START_TIMEOUT,
                ) as server:
                    results[side.name]["cold_starts"].append(server.cold_start)
                    _settled(server)  # a restart follows a server that finished starting
                    if attempt == cold_starts - 1:
                        results[side.name] |= _load(server, loopml_python, work)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                if side.name == "mlflow":
                    raise  # no anchor, no benchmark
                notes.append(f"[yellow]{side.name} did not run:[/] {exc}")
                live.remove(side)
                results.pop(side.name)
    return results


def _settled(server: Server, timeout: float = 60.0) -> None:
    """Wait until a loopml server has finished loading in the background.

    loopml answers before everything is loaded (the native model behind a kept
    ONNX conversion, or the ONNX check behind the native model); latency and
    throughput are measured once it says, on ``/health``, that it is settled.
    """
    if server.name == "mlflow":
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        url = f"http://127.0.0.1:{server.port}/health"
        with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(url) as answer:
            if "background" not in json.loads(answer.read()).get("path_reason", ""):
                return
        time.sleep(0.05)


def _load(server: Server, python: Path, work: Path) -> dict[str, Any]:
    _say(f"{server.name}: {SEQUENTIAL:,} sequential requests ...")
    out = work / f"latency-{server.name}.json"
    _run_script(
        f"load-{server.name}-latency",
        [
            *(str(python), str(HERE / "load_side.py"), "latency", str(server.port)),
            *(str(work / "requests.json"), str(out), str(SEQUENTIAL)),
        ],
        work,
        timeout=LATENCY_TIMEOUT,
    )
    latency = json.loads(out.read_text())
    _say(f"{server.name}: {CLIENTS} clients for {THROUGHPUT_SECONDS:.0f} s ...")
    return {"latency": latency, "throughput": _throughput(server, python, work)}


def _throughput(server: Server, python: Path, work: Path) -> dict[str, Any]:
    start_at = time.time() + THROUGHPUT_SETUP_SECONDS
    per_process = [CLIENTS // CLIENT_PROCESSES] * CLIENT_PROCESSES
    per_process[0] += CLIENTS - sum(per_process)
    outs, procs, logs = [], [], []
    for i, connections in enumerate(per_process):
        out = work / f"throughput-{server.name}-{i}.json"
        log = (WORK_DIR / f"serving-load-{server.name}-throughput-{i}.log").open("w")
        cmd = [str(python), str(HERE / "load_side.py"), "throughput", str(server.port)]
        cmd += [str(work / "requests.json"), str(out), str(connections)]
        cmd += [repr(start_at), str(THROUGHPUT_SECONDS)]
        procs.append(
            subprocess.Popen(cmd, cwd=work, env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
        )
        outs.append(out)
        logs.append(log)
    timeout = THROUGHPUT_SETUP_SECONDS + THROUGHPUT_SECONDS + 60
    try:
        codes = [proc.wait(timeout=timeout) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
        for log in logs:
            log.close()
    if any(codes) or not all(out.exists() for out in outs):
        raise RuntimeError(f"{server.name}: the load generator failed; see {WORK_DIR}")
    parts = [json.loads(out.read_text()) for out in outs]
    return {
        "ok": sum(p["ok"] for p in parts),
        "non_200": sum(p["non_200"] for p in parts),
        "reconnects": sum(p["reconnects"] for p in parts),
        "client_cpu_s": sum(p["client_cpu_s"] for p in parts),
        "started_late": any(p["started_late"] for p in parts),
        "window_s": THROUGHPUT_SECONDS,
    }


def _run_script(
    name: str, cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 0
) -> None:
    log = WORK_DIR / f"serving-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stream:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env if env is not None else clean_env(),
            stdout=stream,
            stderr=subprocess.STDOUT,
            timeout=timeout or PREPARE_TIMEOUT,
            check=False,
        )
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"{name} failed ({proc.returncode}); {log}:\n{tail}")


def _predict_path(name: str) -> str:
    """What the server's log says about its predict path (ONNX Runtime or native)."""
    log = WORK_DIR / f"serving-{name}.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    said = [line[line.lower().index("predict path") :] for line in lines if "predict path" in line]
    return f"{name}, from its log: {said[0][:200] if said else '(no predict path logged)'}"


def _figures(result: dict[str, Any]) -> dict[str, float]:
    seconds = result["latency"]["seconds"]
    throughput = result["throughput"]
    return {
        # The first start of a side has an empty LOOPML_HOME: no kept ONNX conversion.
        "cold": result["cold_starts"][0],
        "restart": statistics.median(result["cold_starts"][1:] or result["cold_starts"]),
        "p50": statistics.median(seconds) * 1000,
        "p99": seconds[math.ceil(0.99 * len(seconds)) - 1] * 1000,
        "throughput": throughput["ok"] / throughput["window_s"],
    }


def _trusted(name: str, result: dict[str, Any], spec: dict[str, Any], notes: list[str]) -> bool:
    """Whether the server answered every request right; say what was wrong otherwise."""
    latency, throughput = result["latency"], result["throughput"]
    labels = [p[0] if isinstance(p, list) and len(p) == 1 else p for p in latency["predictions"]]
    problems = []
    if labels != spec["expected"]:
        wrong = sum(a != b for a, b in zip(labels, spec["expected"], strict=False))
        problems.append(f"{wrong} of {len(spec['expected'])} predictions differ from the model's")
    if latency["non_200"] or throughput["non_200"]:
        problems.append(
            f"non-200 answers: {latency['non_200']}, {throughput['non_200']} under load"
        )
    if latency["connections_opened"] != 1:
        problems.append(f"keep-alive broke: {latency['connections_opened']} connections opened")
    if throughput["started_late"]:
        problems.append("the load generator started after its window opened")
    for problem in problems:
        notes.append(f"[red]{name}: {problem}[/]")
    return not any("predictions" in p or "non-200" in p for p in problems)


def _compare(spec: dict[str, Any], results: dict[str, dict[str, Any]], notes: list[str]) -> Report:
    anchor = _figures(results["mlflow"])
    if not _trusted("mlflow", results["mlflow"], spec, notes):
        raise RuntimeError("mlflow models serve answered wrongly; no anchor figures")
    ours = {
        name: _figures(result)
        for name, result in results.items()
        if name != "mlflow" and _trusted(name, result, spec, notes)
    }
    plain = ours.get("loopml", {})
    rows = [
        Row("cold start to first 200", anchor["restart"], plain.get("cold"), TARGETS["cold"], "s"),
        Row("restart", anchor["restart"], plain.get("restart"), None, "s"),
        Row("1-row latency p50", anchor["p50"], plain.get("p50"), TARGETS["p50"], "ms"),
        Row("1-row latency p99", anchor["p99"], plain.get("p99"), None, "ms"),
        Row(
            f"throughput, {CLIENTS} clients",
            anchor["throughput"],
            plain.get("throughput"),
            TARGETS["throughput"],
            "req/s",
        ),
    ]
    for name, label in VARIANT_LABELS.items():  # for information: no targets
        figures = ours.get(name, {})
        rows += [
            Row(f"{label}: cold start (1)", anchor["cold"], figures.get("cold"), None, "s"),
            Row(f"{label}: p50", anchor["p50"], figures.get("p50"), None, "ms"),
            Row(f"{label}: p99", anchor["p99"], figures.get("p99"), None, "ms"),
            Row(
                f"{label}: throughput",
                anchor["throughput"],
                figures.get("throughput"),
                None,
                "req/s",
            ),
        ]
    for name, result in results.items():
        starts = ", ".join(f"{s:.2f}" for s in result["cold_starts"])
        cpu = result["throughput"]["client_cpu_s"] / result["throughput"]["window_s"]
        notes.append(
            f"{name}: cold starts {starts} s; load generator used {cpu:.0%} of a CPU "
            f"under {CLIENTS} clients ({CLIENT_PROCESSES} process, asyncio)"
        )
    if plain:
        notes.append(_ratio_note(rows))
    notes.append(
        f"both servers: {WORKERS} worker; same request bytes (1-row dataframe_split, "
        f"{len(spec['rows'])} distinct rows); latency after a {len(spec['rows'])}-request warm-up"
    )
    return Report(
        name="serving",
        anchor=f"mlflow models serve {spec['mlflow_version']}",
        loopml=f"loopml serve {spec['loopml_version']}" + ("" if plain else " (did not run)"),
        rows=rows,
        notes=notes,
        details={name: _summary(result) for name, result in results.items()},
    )


def _ratio_note(rows: list[Row]) -> str:
    """The closing note: each ratio of the plain loopml run beside its target."""
    parts = []
    labels = ("cold start", "restart", "p50", "p99", "throughput")
    for label, row in zip(labels, rows[: len(labels)], strict=True):
        if row.ratio is not None:
            target = f" (target {row.target:g}x)" if row.target else ""
            parts.append(f"{label} {row.ratio:.1f}x{target}")
    return "ratios (mlflow/loopml; throughput loopml/mlflow): " + ", ".join(parts)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    # The JSON keeps the figures, not 2,000 raw timings and 200 predictions.
    latency = {k: v for k, v in result["latency"].items() if k not in ("seconds", "predictions")}
    return {**result, "latency": latency, "figures": _figures(result)}


def _say(message: str) -> None:
    print(f"serving: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    render(run())
