"""Logging an evaluation to a run: metrics the registry and search can use, and its files.

Metric names group by prefix the way MLflow's UI groups them: overall metrics
keep their plain names (``accuracy``, ``rmse``), so ``MetricGate`` and run
search use them as they use any logged metric; the rest sit under
``slice/<name>/``, ``fairness/<feature>/``, ``latency/`` and ``delta/``. The
whole evaluation goes to ``evaluation/evaluation.json`` with its plots under
``evaluation/plots/``.
"""

from __future__ import annotations

import io
import json
import math
import re

from loopml.core.clock import now_ms
from loopml.evaluation._result import EVALUATION_FILE, PLOTS_FOLDER, Evaluation
from loopml.store import Metric
from loopml.tracking import Client

ARTIFACT_FOLDER = "evaluation"
_UNSAFE = re.compile(r"[^\w.\- :]+")


def metric_key(*parts: str) -> str:
    """A valid metric name from free text (slice expressions hold '=', quotes...)."""
    return "/".join(_UNSAFE.sub("_", part).strip("_") or "_" for part in parts)[:250]


def evaluation_metrics(evaluation: Evaluation) -> dict[str, float]:
    """Every finite number of the evaluation worth a metric, by metric name."""
    found: dict[str, float] = {}

    def put(key: str, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        if math.isfinite(value):
            found[key] = float(value)

    for name, value in evaluation.metrics.items():
        put(metric_key(name), value)
    for slice_name, entry in evaluation.slices.items():
        for name, value in (entry.get("metrics") or {}).items():
            put(metric_key("slice", slice_name, name), value)
    for feature, entry in evaluation.fairness.items():
        for name, value in entry.items():
            put(metric_key("fairness", feature, name), value)
    for name, value in evaluation.latency.items():
        put(metric_key("latency", name), value)
    if evaluation.baseline is not None:
        for name, value in evaluation.baseline.deltas.items():
            put(metric_key("delta", name), value)
    return found


def log_evaluation(client: Client, run_id: str, evaluation: Evaluation) -> None:
    """Log metrics, the JSON document and the plots of ``evaluation`` to run ``run_id``."""
    stamp = now_ms()
    metrics = [Metric(k, v, stamp, 0) for k, v in evaluation_metrics(evaluation).items()]
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start : start + 1000])
    for name, png in sorted(evaluation.plots.items()):
        client.log_artifact_stream(
            run_id, io.BytesIO(png), f"{ARTIFACT_FOLDER}/{PLOTS_FOLDER}/{name}"
        )
    document = json.dumps(evaluation.to_dict(), indent=2).encode("utf-8")
    client.log_artifact_stream(run_id, io.BytesIO(document), f"{ARTIFACT_FOLDER}/{EVALUATION_FILE}")
