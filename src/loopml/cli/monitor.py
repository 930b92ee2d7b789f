"""``loopml monitor``: monitors of deployments, their runs, results and reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.monitoring import MonitorRun, Monitors, RemoteMonitors
    from loopml.store import Monitor, MonitorResult

app = typer.Typer(
    help="Monitor deployments: drift and performance per time window.", no_args_is_help=True
)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
SHOWN_METRICS = ("rows", "error_rate", "drift_share", "accuracy", "f1", "roc_auc", "rmse", "r2")


def _monitors(ctx: typer.Context) -> Monitors | RemoteMonitors:
    from loopml.monitoring import open_monitors

    return open_monitors(client_from(ctx))


def _spec_text(monitor: Monitor) -> str:
    from loopml.monitoring import MonitorSpec

    spec = MonitorSpec.from_dict(monitor.spec)
    parts = [spec.describe()]
    if spec.task:
        parts.append(spec.task)
    parts.append(f"reference {spec.reference or 'the model training data'}")
    return ", ".join(parts)


def _per_column(methods: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in methods:
        column, sep, method = item.partition("=")
        if not sep or not column or not method:
            raise InvalidArgument(f"--method takes COLUMN=TEST (such as age=psi), not {item!r}.")
        out[column] = method
    return out


@app.command("create")
@fails_cleanly
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The monitor's name."),
    deployment: str = typer.Option(..., "--deployment", help="The deployment to watch."),
    window: str = typer.Option("1h", "--window", help="Window length: 15m, 1h, 1d..."),
    step: str = typer.Option(None, "--step", help="Start a window every STEP (sliding)."),
    task: str = typer.Option(None, "--task", help="classification or regression."),
    target: str = typer.Option(None, "--target", help="The label column of the reference."),
    reference: str = typer.Option(
        None, "--reference", help="A dataset version NAME@VERSION (default: training data)."
    ),
    columns: str = typer.Option(None, "--columns", help="Comma-separated columns to test."),
    method: list[str] = typer.Option([], "--method", help="COLUMN=TEST, repeatable."),
    drift_share: float = typer.Option(0.5, "--drift-share", help="Share of drifted columns."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a monitor of a deployment's prediction log."""
    drift: dict[str, Any] = {"drift_share": drift_share}
    per_column = _per_column(method)
    if per_column:
        drift["per_column"] = per_column
    created = _monitors(ctx).create(
        name,
        deployment,
        window=window,
        step=step,
        task=task,
        target=target,
        reference=reference,
        columns=[c.strip() for c in columns.split(",") if c.strip()] if columns else None,
        drift=drift,
    )
    if as_json:
        print_json(created)
    else:
        console.print(
            escape(f"Created monitor {created.name} of {created.deployment}: ")
            + escape(_spec_text(created))
            + "."
        )


@app.command("list")
@fails_cleanly
def list_monitors(
    ctx: typer.Context,
    deployment: str = typer.Option(None, "--deployment", help="Only this deployment's."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List monitors, by name."""
    found = _monitors(ctx).list(deployment)
    if as_json:
        print_json(found)
        return
    print_table(
        "Monitors",
        ["name", "deployment", "watches", "computed until"],
        [[m.name, m.deployment, _spec_text(m), when(m.last_window_end)] for m in found],
    )


@app.command("delete")
@fails_cleanly
def delete(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Delete a monitor, its results and its alert rules (alert events stay)."""
    _monitors(ctx).delete(name)
    console.print(escape(f"Deleted monitor {name}."))


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _result_rows(results: list[MonitorResult]) -> list[list[Any]]:
    rows = []
    for r in results:
        drifted = r.metrics.get("dataset_drift")
        rows.append(
            [
                when(r.window_start),
                when(r.window_end),
                r.status,
                "" if drifted is None else ("yes" if drifted else "no"),
                *(_cell(r.metrics.get(k)) for k in SHOWN_METRICS),
            ]
        )
    return rows


def _print_results(title: str, results: list[MonitorResult]) -> None:
    print_table(title, ["from", "to", "status", "drift", *SHOWN_METRICS], _result_rows(results))


@app.command("run")
@fails_cleanly
def run(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="The monitor (or give --deployment)."),
    deployment: str = typer.Option(None, "--deployment", help="Run every monitor of it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compute the pending windows now, store them and fire the alert rules."""
    monitors = _monitors(ctx)
    if (name is None) == (deployment is None):
        raise InvalidArgument("Give a monitor name or --deployment NAME (one of them).")
    names = [name] if name is not None else [m.name for m in monitors.list(deployment)]
    if not names:
        raise InvalidArgument(
            f"Deployment {deployment!r} has no monitor: create one with "
            f"`loopml monitor create NAME --deployment {deployment}`."
        )
    runs: list[MonitorRun] = []
    with console.status("Evaluating windows..."):
        for each in names:
            runs.append(monitors.run(each))
    if as_json:
        print_json(runs)
        return
    for done in runs:
        console.print(
            escape(
                f"Monitor {done.monitor}: {len(done.results)} new window(s), "
                f"{len(done.events)} alert(s) fired."
            )
        )
        if done.results:
            _print_results(f"New windows of {done.monitor}", list(done.results[-20:]))
        for event in done.events:
            console.print(f"[bold red]ALERT[/] {escape(event.message)}")


@app.command("results")
@fails_cleanly
def results(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    limit: int = typer.Option(50, "--limit", help="How many of the newest windows."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The monitor's stored window results, oldest first."""
    found = _monitors(ctx).results(name, limit=limit)
    if as_json:
        print_json(found)
        return
    _print_results(f"Windows of {name}", found)


@app.command("report")
@fails_cleanly
def report(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write."),
    json_output: Path = typer.Option(None, "--json-output", help="Also write the JSON."),
) -> None:
    """Write the monitor's report: metrics and drift scores over time, in one HTML file."""
    built = _monitors(ctx).report(name)
    written = built.save_html(output)
    console.print(escape(f"Wrote {written} ({written.stat().st_size:,} bytes)."), soft_wrap=True)
    if json_output is not None:
        json_written = built.save_json(json_output)
        console.print(escape(f"Wrote {json_written}."), soft_wrap=True)
