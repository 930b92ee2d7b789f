"""``loopml runs env``, ``loopml runs diff`` and ``loopml reproduce``: runs you can rebuild."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table
from loopml.core.errors import NotFound

if TYPE_CHECKING:
    from loopml.repro import RunDiff


@fails_cleanly
def env(ctx: typer.Context, run_id: str = typer.Argument(..., help="The run.")) -> None:
    """Print the run's environment lock as a requirements file (pip install -r)."""
    from loopml.repro import read_artifact
    from loopml.tracking._provenance import LOCK_ARTIFACT

    client = client_from(ctx)
    run = client.get_run(run_id)
    lock = read_artifact(client, run.info.run_id, LOCK_ARTIFACT)
    if lock is None:
        raise NotFound(
            f"Run {run.info.run_id} recorded no environment lock (it started with capture off, "
            "or before loopml recorded environments)."
        )
    sys.stdout.write(lock.decode("utf-8"))


def _value(value: Any) -> str:
    return "-" if value is None else str(value)


def _show_diff(found: RunDiff) -> None:
    a, b = found.a[:8], found.b[:8]
    if found.params:
        print_table(
            f"Params that differ ({found.same_params} the same)",
            ["param", a, b],
            [[c.key, _value(c.a), _value(c.b)] for c in found.params],
        )
    else:
        console.print(f"Params: all {found.same_params} the same.")
    if found.metrics:
        print_table(
            "Metrics",
            ["metric", a, b, "delta"],
            [
                [m.key, _value(m.a), _value(m.b), "" if m.delta is None else f"{m.delta:+.6g}"]
                for m in found.metrics
            ],
        )
    else:
        console.print("Metrics: the same.")
    if found.code:
        print_table("Code", ["", a, b], [[c.key, _value(c.a), _value(c.b)] for c in found.code])
    else:
        console.print("Code: the same commit and entry point.")
    if found.same_diff is not None:
        console.print(
            "Uncommitted changes: "
            + ("the same." if found.same_diff else "[bold]they differ[/] (code/diff.patch).")
        )
    changes = [
        *(["added", n, "", v] for n, v in found.packages_added),
        *(["removed", n, v, ""] for n, v in found.packages_removed),
        *(["changed", n, old, new] for n, old, new in found.packages_changed),
    ]
    if found.python:
        changes.insert(0, ["python", "", *found.python])
    if changes:
        print_table("Environment", ["", "package", a, b], changes)
    elif found.environment_known:
        console.print("Environment: the same packages.")
    if found.inputs:
        print_table(
            "Input data",
            ["dataset", a, b],
            [[c.key, _value(c.a), _value(c.b)] for c in found.inputs],
        )
    for note in found.notes:
        console.print(f"[yellow]Note:[/] {escape(note)}")


@fails_cleanly
def diff(
    ctx: typer.Context,
    run_a: str = typer.Argument(..., help="The first run."),
    run_b: str = typer.Argument(..., help="The run to compare with it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """What differs between two runs: params, metrics, code, environment, input data."""
    from loopml.repro import diff_runs

    found = diff_runs(client_from(ctx), run_a, run_b)
    if as_json:
        print_json(found)
    else:
        _show_diff(found)


@fails_cleanly
def reproduce(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run to reproduce."),
    into: str = typer.Option(None, "--into", help="A new folder (default ./reproduce-<id>)."),
    no_run: bool = typer.Option(False, "--no-run", help="Rebuild only; do not re-run."),
    without_diff: bool = typer.Option(
        False, "--without-diff", help="Leave out the run's uncommitted changes."
    ),
) -> None:
    """Check out the run's code, restore its data and lock, and re-run it as a new run."""
    from loopml.repro import diff_runs, recorded_command, rerun_prepared
    from loopml.repro import reproduce as rebuild

    client = client_from(ctx)
    if not no_run:
        recorded_command(client.get_run(run_id).data.tags)  # refused before anything is written
    with console.status("Rebuilding the run's code and data..."):
        done = rebuild(client, run_id, into=into, run=False, without_diff=without_diff)
    console.print(
        escape(f"Checked out {done.commit[:12]} from {done.source} into {done.directory}")
    )
    if done.applied_diff:
        console.print("Applied the run's uncommitted changes (code/diff.patch).")
    for item in done.restored:
        console.print(escape(f"Restored {item}"))
    if done.lock_file is not None:
        console.print(escape(f"Environment lock: {done.lock_file}"))
        console.print(
            escape(f"Recreate it with: cd {done.directory} && {done.environment_command}")
        )
    for warning in done.warnings:
        console.print(f"[yellow]Warning:[/] {escape(warning)}")
    if no_run:
        return
    console.print(escape(f"Re-running: {' '.join(done.command)} (in {done.workdir})"))
    again = rerun_prepared(client, done)
    if again.returncode:
        console.print(f"[bold red]The re-run exited with {again.returncode}.[/]")
        raise typer.Exit(code=1)
    if again.new_run_id is None:
        console.print("[yellow]The re-run started no loopml run.[/]")
        return
    console.print(escape(f"New run {again.new_run_id} reproduces {run_id}."))
    _show_diff(diff_runs(client, run_id, again.new_run_id))
