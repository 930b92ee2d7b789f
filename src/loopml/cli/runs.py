"""``loopml runs``: list, search, show, delete and restore runs; their environment and diff."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer
from rich.tree import Tree

from loopml.cli import repro
from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.cli.experiments import find_experiment

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.store import Run, ViewType
    from loopml.tracking import Client

app = typer.Typer(help="Inspect and manage runs.", no_args_is_help=True)

EXPERIMENT_OPTION = typer.Option("Default", "--experiment", "-e", help="Experiment name or id.")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"


def _show_runs(runs: Sequence[Run], as_json: bool, title: str) -> None:
    if as_json:
        print_json(list(runs))
        return
    metric_keys = sorted({k for r in runs for k in r.data.metrics})[:6]
    print_table(
        title,
        ["run id", "name", "status", "started", *metric_keys],
        [
            (
                r.info.run_id,
                r.info.run_name,
                r.info.status,
                when(r.info.start_time),
                *(_fmt(r.data.metrics[k]) if k in r.data.metrics else "" for k in metric_keys),
            )
            for r in runs
        ],
    )


def _search(
    client: Client,
    experiment: str,
    filter_string: str,
    order_by: list[str] | None,
    max_results: int,
    view: ViewType,
) -> list[Run]:
    target = find_experiment(client, experiment)
    return list(
        client.search_runs([target.experiment_id], filter_string, view, max_results, order_by)
    )


@app.command("list")
@fails_cleanly
def list_runs(
    ctx: typer.Context,
    experiment: str = EXPERIMENT_OPTION,
    max_results: int = typer.Option(50, "--max", help="At most this many runs."),
    all_: bool = typer.Option(False, "--all", help="Include deleted runs."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the newest runs of an experiment."""
    from loopml.store import ViewType

    view = ViewType.ALL if all_ else ViewType.ACTIVE_ONLY
    runs = _search(client_from(ctx), experiment, "", None, max_results, view)
    _show_runs(runs, as_json, f"Runs of {experiment}")


@app.command("search")
@fails_cleanly
def search_runs(
    ctx: typer.Context,
    filter_string: str = typer.Argument(
        "", help="MLflow filter, e.g. \"metrics.acc > 0.9 and params.model = 'rf'\"."
    ),
    experiment: str = EXPERIMENT_OPTION,
    order_by: list[str] = typer.Option(None, "--order-by", help="e.g. 'metrics.acc DESC'."),
    max_results: int = typer.Option(100, "--max", help="At most this many runs."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search runs with MLflow's filter language."""
    from loopml.store import ViewType

    runs = _search(
        client_from(ctx), experiment, filter_string, order_by, max_results, ViewType.ACTIVE_ONLY
    )
    _show_runs(runs, as_json, f"{len(runs)} runs matching {filter_string!r}")


@app.command("show")
@fails_cleanly
def show_run(
    ctx: typer.Context, run_id: str = typer.Argument(...), as_json: bool = JSON_OPTION
) -> None:
    """Show one run: info, params, latest metrics, tags and artifacts."""
    client = client_from(ctx)
    run = client.get_run(run_id)
    entries = client.store.list_artifact_entries(run_id)
    if as_json:
        print_json({"run": run, "artifacts": entries})
        return
    info = run.info
    tree = Tree(f"[bold]{info.run_name}[/] ({info.run_id})")
    tree.add(f"status {info.status}, started {when(info.start_time)}, ended {when(info.end_time)}")
    tree.add(f"experiment {info.experiment_id}, artifacts at {info.artifact_uri}")
    for title, values in (("params", run.data.params), ("metrics", run.data.metrics)):
        branch = tree.add(f"[bold]{title}[/]")
        for key, value in sorted(values.items()):
            shown = _fmt(value) if isinstance(value, float) else value
            branch.add(f"{key} = {shown}")
    tags = tree.add("[bold]tags[/]")
    for key, value in sorted(run.data.tags.items()):
        tags.add(f"{key} = {value}")
    files = tree.add("[bold]artifacts[/]")
    for entry in entries:
        files.add(f"{entry.path} ({entry.size} bytes)")
    console.print(tree)


@app.command("delete")
@fails_cleanly
def delete_run(ctx: typer.Context, run_id: str = typer.Argument(...)) -> None:
    """Delete a run (restore undoes it; gc purges for good)."""
    client_from(ctx).delete_run(run_id)
    console.print(f"Deleted run {run_id}.")


@app.command("restore")
@fails_cleanly
def restore_run(ctx: typer.Context, run_id: str = typer.Argument(...)) -> None:
    """Restore a deleted run."""
    client_from(ctx).restore_run(run_id)
    console.print(f"Restored run {run_id}.")


app.command("env")(repro.env)
app.command("diff")(repro.diff)
