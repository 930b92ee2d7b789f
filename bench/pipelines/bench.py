"""Pipelines and tuning benchmark: Optuna (the anchor) against ``lm.tune``, and a cached re-run.

Tuning (``tune_side.py``, one interpreter per sampler, the two sides
alternating so a busy machine slows both alike): 1,000 trials of the trivial
objective ``x**2`` with one ``suggest_float``,

    optuna   optuna.create_study() in memory, study.optimize
    loopml   lm.tune with every trial tracked as a run in a fresh SQLite
             store; the study's run, the 1,000 trial runs and the final
             flush are inside the timing (the store is created before)

with the same seeded sampler, random and TPE (TPE's own cost grows with the
trials and dominates, random shows loopml's overhead bare). Figures are
milliseconds per trial, the median of the repetitions; the target is at
most 2x Optuna's time (a ratio of at least 0.5 in the table).

Pipelines (``pipeline_side.py``): ``_steps.five_steps`` run once, then again
with nothing changed, so every step is a cache hit (a child run each, no
step recomputed): in-process seconds of the re-run, target under 0.5 s, on
the local process pool and inline. For reference, the same re-run as a new
``loopml pipelines run`` process (interpreter start and imports included).

Figures go to ``bench/.work/pipelines.json``. Run it alone with
``.venv/bin/python bench/pipelines/bench.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
REPO = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:  # run alone rather than through bench/run.py
    sys.path.insert(0, str(BENCH_DIR))

from _report import WORK_DIR, Report, Row, render, write_json  # noqa: E402

TRIALS = 1000
REPS = {"random": 9, "tpe": 3}
PIPELINE_REPS = 5
SIDE_TIMEOUT_SECONDS = 900
TUNE_TARGET = 0.5  # loopml at most 2x Optuna's time
PIPELINE_FLOOR_SECONDS = 0.5


def _python() -> Path:
    python = REPO / ".venv" / "bin" / "python"
    return python if python.exists() else Path(sys.executable)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env["LOOPML_HOME"] = str(home)
    return env


def _side(script: str, args: list[str], home: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(_python()), str(HERE / script), *args],
        capture_output=True,
        text=True,
        env=_env(home),
        cwd=HERE,
        timeout=SIDE_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _tuning_rows(home: Path, details: dict[str, object]) -> list[Row]:
    rows = []
    for sampler, reps in REPS.items():
        figures = _side("tune_side.py", [sampler, str(TRIALS), str(reps)], home / sampler)
        details[f"tune_{sampler}"] = figures
        optuna_ms = statistics.median(figures["optuna"]) / TRIALS * 1000
        loopml_ms = statistics.median(figures["loopml"]) / TRIALS * 1000
        rows.append(
            Row(
                f"tune {TRIALS} trials, {sampler} sampler",
                optuna_ms,
                loopml_ms,
                TUNE_TARGET,
                unit="ms/trial",
            )
        )
    return rows


def _pipeline_rows(home: Path, details: dict[str, object]) -> list[Row]:
    rows = []
    for executor in ("local", "inline"):
        figures = _side("pipeline_side.py", [executor, str(PIPELINE_REPS)], home / executor)
        details[f"pipeline_{executor}"] = figures
        if not figures["all_cache_hits"]:
            raise RuntimeError(f"a cached re-run on {executor} recomputed a step: {figures}")
        rows.append(
            Row(
                f"5-step pipeline re-run, all cached ({executor})",
                None,
                statistics.median(figures["again"]),
                None,
                floor=PIPELINE_FLOOR_SECONDS,
            )
        )
    rows.append(
        Row("same, as a new `loopml pipelines run` process", None, _cli_rerun(home / "cli"), None)
    )
    return rows


def _cli_rerun(home: Path) -> float:
    """Wall seconds of a cached re-run through the CLI (imports and start-up included)."""
    loopml = _python().with_name("loopml")
    command = [str(loopml), "pipelines", "run", "_steps:five_steps", "--executor", "inline"]
    env = _env(home)
    subprocess.run(command, cwd=HERE, env=env, capture_output=True, check=True, timeout=600)
    start = time.perf_counter()
    subprocess.run(command, cwd=HERE, env=env, capture_output=True, check=True, timeout=600)
    return time.perf_counter() - start


def run() -> Report:
    load_before = os.getloadavg()[0]
    details: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="loopml-bench-pipelines-") as tmp:
        home = Path(tmp)
        rows = _tuning_rows(home, details)
        notes = [
            "tune: ms per trial (median of the repetitions); ratio = Optuna / loopml, "
            f"target >= {TUNE_TARGET:g} (loopml at most 2x Optuna)"
        ]
        try:
            rows += _pipeline_rows(home, details)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            notes.append(f"pipelines: not measured: {exc}")
    for sampler in REPS:
        figures: Any = details[f"tune_{sampler}"]
        extra = (min(figures["loopml"]) - min(figures["optuna"])) / TRIALS * 1e6
        notes.append(f"tune {sampler}: loopml adds {extra:.0f} us per trial (fastest repetitions)")
    notes.append(
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"({os.cpu_count()} cores); figures from a busy machine are noisy"
    )
    report = Report(
        name="pipelines",
        anchor=f"optuna {_version('optuna')}",
        loopml="loopml (tune, pipelines)",
        rows=rows,
        notes=notes,
        details=details,
    )
    write_json(report, WORK_DIR / "pipelines.json")
    return report


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    render(run())
