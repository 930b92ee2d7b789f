"""A run's evaluation as the run and model version pages show it.

``loopml.evaluation.log_evaluation`` leaves ``evaluation/evaluation.json`` (format 1)
and ``evaluation/plots/*.png`` in a run's artifacts; ``loopml ci`` may add
``evaluation/gates.json`` (a list of ``{gate, passed, message}``). This module reads
those files through the tracking client (the JSON is parsed by
``Evaluation.from_dict``, so a page shows what the gates would read) and shapes them
into tables. A document that is too large, not JSON or not format 1 becomes a
message on the page, never an error page: the rest of the run is still worth seeing.
"""

from __future__ import annotations

import json
import math
import posixpath
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.evaluation import Evaluation, MaxRegression
from loopml.store import GateResult
from loopml.tracking import Client

FOLDER = "evaluation"
DOCUMENT = f"{FOLDER}/evaluation.json"
GATES = f"{FOLDER}/gates.json"
PLOTS = f"{FOLDER}/plots/"
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # read whole into memory: refuse anything bigger
EVALUATION_MODEL_TAG = "loopml.evaluation.model"  # set on the runs ``loopml ci`` logs
PARENT_TAG = "mlflow.parentRunId"


@dataclass(frozen=True)
class MetricRow:
    """One overall metric with, when a baseline was evaluated, its value and the delta.

    ``verdict`` is ``better``, ``worse`` or ``same`` for the candidate, judged in the
    direction the regression gates use (lower is better for losses and errors).
    """

    name: str
    value: Any
    baseline: Any = None
    delta: Any = None
    verdict: str | None = None


@dataclass(frozen=True)
class FairnessView:
    """One sensitive feature: metrics per group and the between-group differences."""

    feature: str
    columns: list[str]
    groups: list[tuple[str, dict[str, Any]]]
    differences: dict[str, Any]
    notices: list[str]


@dataclass(frozen=True)
class EvaluationView:
    """What the Evaluation section shows; ``problem`` alone when the files are unreadable."""

    run_id: str
    evaluation: Evaluation | None = None
    problem: str | None = None
    metrics: list[MetricRow] = field(default_factory=list)
    slice_columns: list[str] = field(default_factory=list)
    slices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fairness: list[FairnessView] = field(default_factory=list)
    gates: list[GateResult] | None = None
    plots: list[tuple[str, str]] = field(default_factory=list)


def _greater_is_better(metric: str) -> bool:
    # The regression gate's own default direction, so the colours agree with the gates.
    return MaxRegression(metric).greater_is_better


def verdict(metric: str, delta: Any) -> str | None:
    """``better``/``worse``/``same`` for a candidate-minus-baseline ``delta`` of ``metric``."""
    if isinstance(delta, bool) or not isinstance(delta, int | float) or not math.isfinite(delta):
        return None
    if delta == 0:
        return "same"
    return "better" if (delta > 0) == _greater_is_better(metric) else "worse"


def _read(client: Client, run_id: str, path: str, size: int) -> Any:
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidArgument(
            f"{path} is {size} bytes, more than the {MAX_DOCUMENT_BYTES} this page reads."
        )
    _, reader = client.open_artifact(run_id, path)
    with reader:
        data = reader.read()
    try:
        return json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"{path} is not valid JSON: {exc}") from None


def _gates(document: Any) -> list[GateResult]:
    if not isinstance(document, list):
        raise InvalidArgument(f"{GATES} is not a list of gate results.")
    found = []
    for item in document:
        if not isinstance(item, dict) or "gate" not in item or "passed" not in item:
            raise InvalidArgument(f"{GATES} holds an entry without 'gate' and 'passed'.")
        found.append(
            GateResult(str(item["gate"]), bool(item["passed"]), str(item.get("message", "")))
        )
    return found


def _metric_rows(evaluation: Evaluation) -> list[MetricRow]:
    baseline = evaluation.baseline
    rows = []
    for name, value in evaluation.metrics.items():
        if baseline is None:
            rows.append(MetricRow(name, value))
            continue
        delta = baseline.deltas.get(name)
        rows.append(MetricRow(name, value, baseline.metrics.get(name), delta, verdict(name, delta)))
    return rows


def _fairness(evaluation: Evaluation) -> list[FairnessView]:
    found = []
    for feature, entry in evaluation.fairness.items():
        if not isinstance(entry, dict):
            continue
        groups = entry.get("groups")
        groups = groups if isinstance(groups, dict) else {}
        rows = [(str(g), v if isinstance(v, dict) else {}) for g, v in groups.items()]
        columns = list(dict.fromkeys(k for _, values in rows for k in values))
        differences = {k: v for k, v in entry.items() if k not in ("groups", "notices")}
        notices = [str(n) for n in entry.get("notices") or []]
        found.append(FairnessView(str(feature), columns, rows, differences, notices))
    return found


def shape(run_id: str, evaluation: Evaluation, plots: list[str]) -> EvaluationView:
    """The tables of one evaluation, and links to its plots (artifact paths given)."""
    slices = [
        (str(name), entry if isinstance(entry, dict) else {})
        for name, entry in evaluation.slices.items()
    ]
    columns = list(dict.fromkeys(k for _, entry in slices for k in (entry.get("metrics") or {})))
    base = f"/ui/runs/{quote(run_id, safe='')}/artifact?inline=true&path="
    return EvaluationView(
        run_id=run_id,
        evaluation=evaluation,
        metrics=_metric_rows(evaluation),
        slice_columns=columns,
        slices=slices,
        fairness=_fairness(evaluation),
        plots=[(posixpath.basename(p), base + quote(p, safe="")) for p in plots],
    )


def load_evaluation(client: Client, run_id: str) -> EvaluationView | None:
    """The run's evaluation, None when it has none; a ``problem`` when it is unreadable."""
    entries = {e.path: e for e in client.list_artifact_entries(run_id, FOLDER)}
    document = entries.get(DOCUMENT)
    if document is None:
        return None
    try:
        evaluation = Evaluation.from_dict(_read(client, run_id, DOCUMENT, document.size))
        gates = None
        if GATES in entries:
            gates = _gates(_read(client, run_id, GATES, entries[GATES].size))
    except LoopmlError as exc:
        return EvaluationView(run_id, problem=exc.message)
    plots = sorted(p for p in entries if p.startswith(PLOTS) and p.lower().endswith(".png"))
    return replace(shape(run_id, evaluation, plots), gates=gates)


def find_evaluation(client: Client, run_id: str) -> EvaluationView | None:
    """The evaluation of a model's run: its own, else the newest one ``loopml ci`` logged
    as a child run of it (tagged ``loopml.evaluation.model``)."""
    own = load_evaluation(client, run_id)
    if own is not None:
        return own
    run = client.get_run(run_id)
    children = client.search_runs(
        [run.info.experiment_id],
        f"tags.`{PARENT_TAG}` = '{run_id}' and tags.`{EVALUATION_MODEL_TAG}` IS NOT NULL",
        max_results=1,
        order_by=["attributes.start_time DESC"],
    )
    return load_evaluation(client, children[0].info.run_id) if children else None
