"""``loopml quickstart``: the whole closed loop live, from data to a retrained champion."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from loopml.cli._output import console, fails_cleanly, print_table


@fails_cleanly
def quickstart(
    exit_after: bool = typer.Option(
        False, "--exit", help="Stop the servers and exit once the loop has closed (for CI)."
    ),
    folder: Path = typer.Option(
        None,
        "--folder",
        help="Where the demo keeps everything (new or empty; default <LOOPML_HOME>/demo/<time>).",
    ),
    trials: int = typer.Option(6, "--trials", min=1, max=100, help="Tuning trials."),
) -> None:
    """Run the closed loop: serve, monitor, detect drift, retrain, canary, promote.

    Starts a tracking server and an inference server, versions a churn dataset,
    tunes, trains and deploys a model, sends traffic, shifts the data, and lets
    the drift alert and the retraining policy promote a retrained model. Then it
    keeps the servers up until Ctrl-C (or exits, with --exit).
    """
    from loopml.quickstart import demo_folder, require_extras

    require_extras()  # before importing the demo, which needs them
    from loopml.core.settings import load_settings
    from loopml.demo import STEPS, Demo, DemoOptions, Timeline  # scikit-learn: only here
    from loopml.demo.live import live_timeline

    where = demo_folder(load_settings(), folder)
    timeline = Timeline.of(STEPS)
    demo = Demo(DemoOptions(folder=where, trials=trials), timeline)
    console.print(f"loopml closed-loop demo in [bold]{where}[/]")
    # A SIGTERM (a service manager, `kill`) stops the servers as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    summary: dict[str, Any] | None = None
    try:
        with live_timeline(timeline, console):
            summary = demo.run()
        console.print()
        _print_summary(summary)
        if not exit_after:
            console.print(
                f"\nThe servers keep running: tracking server [bold]{summary['server_url']}[/], "
                f"inference server [bold]{summary['inference_url']}[/]. Press Ctrl-C to stop."
            )
            threading.Event().wait()
    except KeyboardInterrupt:
        console.print("\nStopping the servers...")
        if summary is None:  # interrupted before the loop closed
            raise typer.Exit(code=130) from None
    finally:
        demo.close()


def _print_summary(summary: dict[str, Any]) -> None:
    metrics = summary["metrics"]
    rows = []
    for version in summary["versions"]:
        scores = metrics.get(f"v{version['version']}", {})
        before = scores.get("before_shift", {})
        after = scores.get("after_shift", {})
        rows.append(
            (
                f"v{version['version']}",
                ", ".join(version["aliases"]) or "-",
                _number(before.get("roc_auc")),
                _number(after.get("roc_auc")),
                _number(after.get("accuracy")),
            )
        )
    print_table(
        f"Model {summary['model']!r}: champion v{summary['champion']}",
        ["version", "aliases", "ROC AUC before shift", "ROC AUC after shift", "accuracy after"],
        rows,
    )
    drift = summary["drift"].get("at_alert") or {}
    reports = summary["reports"]
    if drift:
        console.print(
            f"Drift at the alert: {_number(drift.get('drift_share'))} of the columns drifted "
            f"({', '.join(drift.get('drifted_columns', []))}) in a window of "
            f"{int(drift.get('rows') or 0)} requests"
        )
    if reports.get("drift_scores"):
        scores = ", ".join(f"{c} {s:.2f}" for c, s in reports["drift_scores"].items())
        console.print(f"Drift scores, first training data vs drifted traffic: {scores}")
    traffic = summary["traffic"]
    console.print(
        f"Traffic: {traffic.get('sent', 0)} requests, {traffic.get('failed', 0)} failed "
        f"({traffic.get('failed_during_promotion', 0)} during the canary and promotion)"
    )
    policy = summary.get("policy") or {}
    console.print(f"Policy run: {policy.get('status')} - {policy.get('reason')}")
    if "drift" in reports:
        console.print(f"Drift report: [bold]{reports['drift']}[/]")
    if "monitor" in reports:
        console.print(f"Monitor report: [bold]{reports['monitor']}[/]")
    console.print(f"Summary: [bold]{summary['folder']}/summary.json[/]")
    console.print(f"Server: [bold]{summary['server_url']}[/]")
    console.print(
        f"Look around: loopml --tracking-uri {summary['server_url']} policies history "
        "churn-retrain  (or: models show churn, monitor results churn-live, runs list -e churn)"
    )
    took = summary["timings_seconds"].get("total_seconds")
    if took is not None:
        console.print(f"The loop closed in {took:.0f} s.")


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"
