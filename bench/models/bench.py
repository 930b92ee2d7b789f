"""Model packaging benchmark: MLflow 3 (the anchor) against loopml, same model, one run.

Both sides run as a subprocess script (``mlflow_side.py`` in an MLflow venv
with the project's scikit-learn, ``loopml_side.py`` in the project venv),
each fitting the same seeded scikit-learn pipeline (``_cases.py``) and
timing, in a temporary directory:

    save             save_model with an input example           median of 5
    load             load back as a predicting model             median of 5
    predict median   one-row DataFrame predict                   median of 200
    predict p95      the same, 95th percentile

MLflow is timed twice: with its defaults (it infers the pip requirements in
a subprocess), and with ``pip_requirements`` given (``--pinned``), the floor
of its save. Ratios are MLflow time / loopml time; there are no targets
yet. Both sides' predictions must be equal.

Figures go to ``bench/.work/models.json``. Run it alone with
``.venv/bin/python bench/models/bench.py``.
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

MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_LOGGING_LEVEL": "ERROR",
}
SIDE_TIMEOUT_SECONDS = 600
CASES = [
    ("save", "save (mlflow defaults)", "mlflow", "s"),
    ("save", "save (mlflow pip_requirements given)", "mlflow_pinned", "s"),
    ("load", "load", "mlflow", "s"),
    ("predict_median", "predict 1 row, median", "mlflow", "ms"),
    ("predict_p95", "predict 1 row, p95", "mlflow", "ms"),
]


def run() -> Report:
    mlflow_python = ensure_venv("mlflow-sklearn", HERE / "requirements-mlflow-sklearn.txt")
    loopml_python = loopml_interpreter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="loopml-bench-models-") as tmp:
        root = Path(tmp)
        mlflow_env = {**clean_env(), **MLFLOW_ENV}
        results = {
            "mlflow": _run_side("mlflow", mlflow_python, root / "mlflow", mlflow_env),
            "mlflow_pinned": _run_side(
                "mlflow", mlflow_python, root / "pinned", mlflow_env, ["--pinned"]
            ),
        }
        loopml_env = {**clean_env(), "LOOPML_HOME": str(root / "loopml-home")}
        why = ""
        try:
            results["loopml"] = _run_side("loopml", loopml_python, root / "loopml", loopml_env)
        except RuntimeError as exc:
            why = str(exc)
    report = _compare(results, why)
    report.notes.append(load_note(load_before))
    write_json(report, WORK_DIR / "models.json")
    return report


def _run_side(
    name: str, python: Path, work_dir: Path, env: dict[str, str], extra: list[str] | None = None
) -> dict:
    work_dir.mkdir(parents=True)
    out = work_dir / "result.json"
    log = WORK_DIR / f"models-{work_dir.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"models: running the {work_dir.name} side ...", file=sys.stderr, flush=True)
    with log.open("w") as stream:
        proc = subprocess.run(
            [str(python), str(HERE / f"{name}_side.py"), str(out), str(work_dir), *(extra or [])],
            cwd=work_dir,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            timeout=SIDE_TIMEOUT_SECONDS,
            check=False,
        )
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"the {work_dir.name} side failed ({proc.returncode}); {log}:\n{tail}")
    return json.loads(out.read_text())


def _compare(results: dict[str, dict], why: str) -> Report:
    loopml = results.get("loopml")
    rows = []
    for case, label, anchor, unit in CASES:
        scale = 1000.0 if unit == "ms" else 1.0
        rows.append(
            Row(
                case=label,
                anchor_seconds=results[anchor]["seconds"][case] * scale,
                loopml_seconds=None if loopml is None else loopml["seconds"][case] * scale,
                target=None,
                unit=unit,
            )
        )
    notes = [
        "pipeline: StandardScaler + LogisticRegression, 10,000 rows x 20 features; "
        "both save with skops and enforce the signature inferred from a 5-row example"
    ]
    if loopml is None:
        notes.append(f"[yellow]loopml side did not run:[/] {why}")
        label = "loopml (did not run)"
    else:
        label = f"loopml {loopml['version']}"
        for name, result in results.items():
            checks = result["checks"]
            if checks["predictions"] != checks["expected"]:
                notes.append(f"[red]{name}: the loaded model predicts differently[/]")
        if loopml["checks"]["predictions"] != results["mlflow"]["checks"]["predictions"]:
            notes.append("[red]loopml and mlflow predict differently on the same rows[/]")
        else:
            notes.append("both sides predict the same labels on the 50 check rows")
    return Report(
        name="models",
        anchor=f"mlflow {results['mlflow']['version']}",
        loopml=label,
        rows=rows,
        notes=notes,
        details=results,
    )


if __name__ == "__main__":
    render(run())
