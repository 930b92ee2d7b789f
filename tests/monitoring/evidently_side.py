"""The Evidently side of test_evidently_agreement.py; runs in Evidently's own venv.

    python evidently_side.py SCENARIOS.json

``SCENARIOS.json`` maps a scenario name to ``{"reference": PATH, "current":
PATH}`` (Parquet files). For each scenario this runs Evidently's
DataDriftPreset with its per-column tests on and prints, as one JSON object
on stdout, ``{scenario: {column: {"drifted", "method", "threshold",
"score"}}}``. ``drifted`` is Evidently's own verdict (the column's
"Value Drift" test failed), not one recomputed here, so the comparison
checks loopml against Evidently's decision rule as well as its scores.

It imports only Evidently, pandas and the standard library: it must not
import loopml, which lives in another venv with pandas 3.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def _decisions(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, dict[str, Any]]:
    snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
    data = snapshot.dict()
    by_metric: dict[str, dict[str, Any]] = {}
    for metric in data["metrics"]:
        config = metric["config"]
        if config.get("type") == "evidently:metric_v2:ValueDrift":
            score = float(metric["value"])
            by_metric[metric["id"]] = {
                "column": config["column"],
                "method": config.get("method"),
                "threshold": config.get("threshold"),
                "score": score if math.isfinite(score) else None,
            }
    result: dict[str, dict[str, Any]] = {}
    for test in data["tests"]:
        metric = by_metric.get(test["metric_config"]["metric_id"])
        if metric is None or test["id"] != "drift":
            continue
        column = metric.pop("column")
        status = getattr(test["status"], "value", test["status"])
        result[column] = {**metric, "drifted": status == "FAIL"}
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: evidently_side.py SCENARIOS.json", file=sys.stderr)
        return 2
    scenarios = json.loads(Path(argv[0]).read_text())
    out = {
        name: _decisions(pd.read_parquet(paths["reference"]), pd.read_parquet(paths["current"]))
        for name, paths in scenarios.items()
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
