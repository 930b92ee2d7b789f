"""The demo's summary: versions, metrics before and after, drift, traffic, where things are.

Written to ``summary.json`` in the demo folder (the end-to-end test reads
it) beside two HTML reports: the drift between the first champion's
training data and the drifted live traffic (``drift_report``), and the
monitor's report over the whole run (its windows and alert).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

import loopml as lm
from loopml.core.atomic import write_text_atomic
from loopml.core.errors import LoopmlError
from loopml.demo._data import FEATURES, TARGET
from loopml.demo._model import roc_auc
from loopml.demo._steps import DRIFT_RULE, MODEL, MONITOR
from loopml.monitoring import open_monitors
from loopml.registry import Registry
from loopml.tracking import Client

if TYPE_CHECKING:
    from loopml.demo._demo import DemoOptions, DemoState

PROMOTION_PHASES = ("canary", "after promotion")


def summarize(
    client: Client, folder: Path, state: DemoState, options: DemoOptions
) -> dict[str, Any]:
    """Gather the summary, write the reports and ``summary.json``; the summary."""
    reports = folder / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    traffic = state.traffic.snapshot() if state.traffic is not None else {}
    phases = traffic.get("by_phase", {})
    traffic["failed_during_promotion"] = sum(
        phases.get(p, {}).get("failed", 0) for p in PROMOTION_PHASES
    )
    summary: dict[str, Any] = {
        "folder": str(folder),
        "server_url": state.server.url if state.server else None,
        "inference_url": state.inference.url if state.inference else None,
        "model": MODEL,
        "first_champion": state.champion_version,
        "datasets": dict(state.datasets),
        "tuned_params": dict(state.params),
        "versions": _versions(client),
        "metrics": _metrics(client, state),
        "drift": _drift(client, state),
        "alert": _alert(state),
        "policy": _policy(state),
        "traffic": traffic,
        "reports": _reports(client, state, reports),
        "timings_seconds": dict(state.timings),
    }
    summary["champion"] = next(
        (v["version"] for v in summary["versions"] if "champion" in v["aliases"]), None
    )
    write_text_atomic(folder / "summary.json", json.dumps(summary, indent=2, default=str))
    return summary


def _versions(client: Client) -> list[dict[str, Any]]:
    registry = Registry(client)
    out = []
    for version in sorted(registry.list_model_versions(MODEL), key=lambda v: int(v.version)):
        out.append(
            {
                "version": int(version.version),
                "aliases": sorted(version.aliases),
                "run_id": version.run_id,
                "source": version.source,
            }
        )
    return out


def _metrics(client: Client, state: DemoState) -> dict[str, Any]:
    """ROC AUC and accuracy of every version on the old and the new holdout data."""
    frames = {
        "before_shift": state.frames.get("holdout"),
        "after_shift": state.frames.get("drifted_holdout"),
    }
    out: dict[str, Any] = {}
    for version in Registry(client).list_model_versions(MODEL):
        try:
            model = lm.load_model(f"models:/{MODEL}/{version.version}", client=client).raw
        except LoopmlError as exc:
            out[f"v{version.version}"] = {"error": str(exc)}
            continue
        scores = {}
        for label, frame in frames.items():
            if frame is None:
                continue
            predicted = model.predict(frame[list(FEATURES)])
            scores[label] = {
                "roc_auc": round(roc_auc(model, frame), 4),
                "accuracy": round(float((predicted == frame[TARGET]).mean()), 4),
            }
        out[f"v{version.version}"] = scores
    return out


def _drift(client: Client, state: DemoState) -> dict[str, Any]:
    """The monitor's windows before the shift and the one that fired, with top column scores."""
    results = open_monitors(client).results(MONITOR)
    shift = state.shift_ms or 0
    before = [
        r for r in results if r.window_end <= shift and r.metrics.get("drift_share") is not None
    ]
    fired = state.alert
    at_alert = next((r for r in results if fired and r.window_start == fired.window_start), None)
    return {
        "windows": len(results),
        "before_shift": _window(before[-1]) if before else None,
        "at_alert": _window(at_alert) if at_alert else None,
    }


def _window(result: Any) -> dict[str, Any]:
    """One window's numbers: rows, drift share, accuracy, each column's test score."""
    metrics = result.metrics
    return {
        "window_start": result.window_start,
        "window_end": result.window_end,
        "rows": metrics.get("rows"),
        "drift_share": metrics.get("drift_share"),
        "dataset_drift": metrics.get("dataset_drift"),
        "accuracy": metrics.get("accuracy"),
        # p-values of the monitor's tests (ks, chi-squared): low means drifted
        "p_values": {
            key.removeprefix("drift_score."): _rounded(value)
            for key, value in metrics.items()
            if key.startswith("drift_score.")
        },
        "drifted_columns": sorted(
            k.removeprefix("drift.") for k, v in metrics.items() if k.startswith("drift.") and v
        ),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _alert(state: DemoState) -> dict[str, Any] | None:
    event = state.alert
    if event is None:
        return None
    return {
        "id": event.id,
        "rule": DRIFT_RULE,
        "message": event.message,
        "window_start": event.window_start,
        "window_end": event.window_end,
    }


def _policy(state: DemoState) -> dict[str, Any] | None:
    outcome = state.outcome
    if outcome is None:
        return None
    run = outcome.run
    return {
        "status": outcome.status,
        "reason": outcome.reason,
        "run_id": run.id if run else None,
        "trigger": dict(run.trigger) if run else None,
        "links": dict(run.links) if run else {},
        "details": dict(run.details) if run else {},
        "events": [
            {
                "time_ms": e.time_ms,
                "step": e.step,
                "status": e.status,
                "reason": e.reason,
                "links": dict(e.links),
            }
            for e in outcome.events
        ],
    }


def _reports(client: Client, state: DemoState, folder: Path) -> dict[str, Any]:
    """The HTML drift report (first training data vs drifted traffic) and the monitor's."""
    out: dict[str, Any] = {}
    reference = state.frames.get("train")
    current = state.frames.get("drifted_live")
    if reference is not None and current is not None:
        sent = state.traffic.snapshot()["by_phase"] if state.traffic is not None else {}
        rows = sum(p["sent"] for name, p in sent.items() if name != "baseline") or len(current)
        drifted: pd.DataFrame = current.head(min(rows, len(current)))
        report = lm.drift_report(reference[list(FEATURES)], drifted[list(FEATURES)])
        out["drift"] = str(report.save_html(folder / "drift-report.html"))
        result = report.result
        out["drift_share"] = round(result.share, 4)
        out["drift_scores"] = {
            c.column: _rounded(c.score) for c in result.columns if c.score is not None
        }
    try:
        out["monitor"] = str(
            open_monitors(client).report(MONITOR).save_html(folder / "monitor-report.html")
        )
    except LoopmlError as exc:  # the summary still has everything else
        out["monitor_error"] = str(exc)
    return out
