"""One side of bench/monitoring: load a reference and a current Parquet file, time drift.

    PYTHON drift_side.py evidently|loopml REFERENCE.parquet CURRENT.parquet

Run once in Evidently's venv (``evidently``: DataDriftPreset, the way its
users run it) and once in loopml's (``loopml``: ``loopml.monitoring.drift``),
each in a fresh process, so each side's import and load costs stay its own.
Prints one JSON object: ``drift_seconds`` (the drift computation only, after
the data is loaded), ``load_seconds`` and the drifted columns, for the
harness to check that both sides reached the same verdicts. It imports
nothing of the other side.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pandas as pd


def _evidently(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[float, list[str]]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    report = Report([DataDriftPreset()], include_tests=True)
    start = time.perf_counter()
    snapshot = report.run(current, reference)
    seconds = time.perf_counter() - start
    data = snapshot.dict()
    columns = {m["id"]: m["config"].get("column") for m in data["metrics"]}
    drifted = [
        columns[t["metric_config"]["metric_id"]]
        for t in data["tests"]
        if t["id"] == "drift" and getattr(t["status"], "value", t["status"]) == "FAIL"
    ]
    return seconds, sorted(drifted)


def _loopml(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[float, list[str]]:
    from loopml.monitoring import drift

    start = time.perf_counter()
    result = drift(reference, current)
    seconds = time.perf_counter() - start
    return seconds, sorted(result.drifted_columns)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("evidently", "loopml"):
        print("usage: drift_side.py evidently|loopml REFERENCE CURRENT", file=sys.stderr)
        return 2
    side, reference_path, current_path = argv
    # Import the library before loading, so load_seconds is the Parquet read alone.
    __import__("evidently.presets" if side == "evidently" else "loopml.monitoring")
    start = time.perf_counter()
    reference, current = pd.read_parquet(reference_path), pd.read_parquet(current_path)
    load_seconds = time.perf_counter() - start
    seconds, drifted = (_evidently if side == "evidently" else _loopml)(reference, current)
    out: dict[str, Any] = {
        "drift_seconds": seconds,
        "load_seconds": load_seconds,
        "drifted": drifted,
        "columns": len(reference.columns),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
