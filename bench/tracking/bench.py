"""Tracking benchmark: MLflow 3 (the anchor) against loopml on the same machine.

Both sides run as a subprocess script (``mlflow_side.py`` in MLflow's venv,
``loopml_side.py`` in the project venv), each on a fresh SQLite store in a
temporary directory, driven by the same ``_cases.py`` with the same seeded
data. Cases and the speed-up wanted (MLflow seconds / loopml seconds):

    a         1,000 log_metric calls, start_run to end of run        20x
    b         100,000 metrics through log_batch, chunks of 1,000     20x
    c         get_metric_history of 10,000 points                   10x
    d_filter  search_runs over 2,000 runs with a filter               5x
    d_order   the same search ordered by metrics.m1 DESC              5x

Each figure is a median: of 3 repetitions for a and b, of 7 for c and d.

Figures go to ``bench/.work/tracking.json``. Run it alone with
``.venv/bin/python bench/tracking/bench.py``.
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

from _anchor import ensure_venv  # noqa: E402
from _process import clean_env, loopml_interpreter  # noqa: E402
from _report import WORK_DIR, Report, Row, load_note, render, write_json  # noqa: E402

TARGETS = {"a": 20.0, "b": 20.0, "c": 10.0, "d_filter": 5.0, "d_order": 5.0}
LABELS = {
    "a": "a log_metric x1,000 + end",
    "b": "b log_batch 100k metrics",
    "c": "c metric history 10k pts",
    "d_filter": "d search_runs filter",
    "d_order": "d search_runs filter+order",
}
# MLflow as a user gets it by default, minus the noise: synchronous logging
# (the default, pinned here), no telemetry thread (it would only fail here,
# there is no network), no run URLs or INFO lines on stdout.
MLFLOW_ENV = {
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
SIDE_TIMEOUT_SECONDS = 480


def run() -> Report:
    """Run both sides and compare; the loopml side may fail without stopping the report."""
    mlflow_python = ensure_venv("mlflow", HERE / "requirements-mlflow.txt")
    loopml_python = loopml_interpreter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="loopml-bench-tracking-") as tmp:
        root = Path(tmp)
        mlflow_env = {**clean_env(), **MLFLOW_ENV}
        mlflow = _run_side("mlflow", mlflow_python, root / "mlflow", mlflow_env)
        loopml_env = {
            **clean_env(),
            "LOOPML_HOME": str(root / "loopml" / "home"),
            "LOOPML_TRACKING_URI": f"sqlite:///{root / 'loopml' / 'loopml.db'}",
        }
        loopml: dict | None = None
        why = ""
        try:
            loopml = _run_side("loopml", loopml_python, root / "loopml", loopml_env)
        except RuntimeError as exc:
            why = str(exc)
    report = _compare(mlflow, loopml, why)
    # Both sides share the machine with whatever else runs: say how busy it was.
    report.notes.append(load_note(load_before))
    write_json(report, WORK_DIR / "tracking.json")
    return report


def _run_side(name: str, python: Path, work_dir: Path, env: dict[str, str]) -> dict:
    work_dir.mkdir(parents=True)
    out = work_dir / "result.json"
    log = WORK_DIR / f"tracking-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    script = HERE / f"{name}_side.py"
    print(f"tracking: running the {name} side ...", file=sys.stderr, flush=True)
    with log.open("w") as stream:
        proc = subprocess.run(
            [str(python), str(script), str(out), str(work_dir)],
            cwd=work_dir,  # anything a library drops in the cwd (mlruns/) stays in the temp dir
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            timeout=SIDE_TIMEOUT_SECONDS,
            check=False,
        )
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"the {name} side failed ({proc.returncode}); {log}:\n{tail}")
    return json.loads(out.read_text())


def _compare(mlflow: dict, loopml: dict | None, why: str) -> Report:
    rows = [
        Row(
            case=LABELS[case],
            anchor_seconds=seconds,
            loopml_seconds=None if loopml is None else loopml["seconds"][case],
            target=TARGETS[case],
        )
        for case, seconds in mlflow["seconds"].items()
    ]
    notes = [f"MLflow env: {' '.join(f'{k}={v}' for k, v in MLFLOW_ENV.items())}"]
    details: dict[str, object] = {"mlflow": mlflow, "loopml": loopml}
    if loopml is None:
        notes.append(f"[yellow]loopml side did not run:[/] {why}")
        label = "loopml (did not run)"
    else:
        notes.extend(_check_same_results(mlflow["checks"], loopml["checks"]))
        label = f"loopml {loopml['version']}"
    return Report(
        name="tracking",
        anchor=f"mlflow {mlflow['version']}",
        loopml=label,
        rows=rows,
        notes=notes,
        details=details,
    )


def _check_same_results(mlflow: dict, loopml: dict) -> list[str]:
    """Both tools saw the same data, so their answers must agree."""
    for case in ("d_filter", "d_order"):
        counts = len(mlflow[f"{case}_names"]), len(loopml[f"{case}_names"])
        assert counts[0] == counts[1], f"{case}: mlflow found {counts[0]} runs, loopml {counts[1]}"
    notes = [f"d: both tools found {len(mlflow['d_filter_names'])} of 2,000 runs"]
    if sorted(mlflow["d_filter_names"]) != sorted(loopml["d_filter_names"]):
        notes.append("[red]d_filter: same count but different runs[/]")
    if mlflow["d_order_names"] != loopml["d_order_names"]:
        notes.append("[red]d_order: runs in a different order than MLflow's[/]")
    if not loopml["a_matches_logged"]:
        notes.append("[red]a: loopml's history of the fluent run is not the 1,000 points logged[/]")
    if loopml["c_points"] != mlflow["c_points"] or not loopml["c_matches_logged"]:
        notes.append(f"[red]c: loopml returned {loopml['c_points']} points, not the ones logged[/]")
    return notes


if __name__ == "__main__":
    render(run())
