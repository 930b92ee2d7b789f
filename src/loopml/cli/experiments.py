"""``loopml experiments``: list, create, rename, delete and restore experiments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import NotFound

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.store import Experiment
    from loopml.tracking import Client

app = typer.Typer(help="Manage experiments.", no_args_is_help=True)


def find_experiment(client: Client, name_or_id: str) -> Experiment:
    """An experiment by name, or by id when no experiment has that name."""
    experiment = client.get_experiment_by_name(name_or_id)
    if experiment is not None:
        return experiment
    if name_or_id.isdigit():
        return client.get_experiment(name_or_id)
    raise NotFound(
        f"No experiment named {name_or_id!r}: `loopml experiments list --all` shows them."
    )


@app.command("list")
@fails_cleanly
def list_experiments(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="Include deleted experiments."),
    deleted: bool = typer.Option(False, "--deleted", help="Only deleted experiments."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List experiments."""
    from loopml.store import ViewType

    view = ViewType.DELETED_ONLY if deleted else ViewType.ALL if all_ else ViewType.ACTIVE_ONLY
    client = client_from(ctx)
    experiments: list[Experiment] = []
    token = None
    while True:
        page = client.search_experiments(view, 1000, token)
        experiments.extend(page)
        token = page.token
        if not token:
            break
    if as_json:
        print_json(experiments)
        return
    print_table(
        "Experiments",
        ["id", "name", "stage", "created", "artifact location"],
        [
            (e.experiment_id, e.name, e.lifecycle_stage, when(e.creation_time), e.artifact_location)
            for e in experiments
        ],
    )


@app.command("create")
@fails_cleanly
def create_experiment(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A unique experiment name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Create an experiment."""
    client = client_from(ctx)
    experiment = client.get_experiment(client.create_experiment(name))
    if as_json:
        print_json(experiment)
    else:
        console.print(f"Created experiment [bold]{name}[/] with id {experiment.experiment_id}.")


@app.command("rename")
@fails_cleanly
def rename_experiment(
    ctx: typer.Context,
    experiment: str = typer.Argument(..., help="Name or id."),
    new_name: str = typer.Argument(..., help="The new name."),
) -> None:
    """Rename an experiment."""
    client = client_from(ctx)
    target = find_experiment(client, experiment)
    client.rename_experiment(target.experiment_id, new_name)
    console.print(f"Renamed experiment {target.experiment_id} to [bold]{new_name}[/].")


@app.command("delete")
@fails_cleanly
def delete_experiment(
    ctx: typer.Context, experiment: str = typer.Argument(..., help="Name or id.")
) -> None:
    """Delete an experiment and its runs (restore undoes it; gc purges for good)."""
    client = client_from(ctx)
    target = find_experiment(client, experiment)
    client.delete_experiment(target.experiment_id)
    console.print(f"Deleted experiment [bold]{target.name}[/] ({target.experiment_id}).")


@app.command("restore")
@fails_cleanly
def restore_experiment(
    ctx: typer.Context, experiment: str = typer.Argument(..., help="Name or id.")
) -> None:
    """Restore a deleted experiment and its runs."""
    client = client_from(ctx)
    target = find_experiment(client, experiment)
    client.restore_experiment(target.experiment_id)
    console.print(f"Restored experiment [bold]{target.name}[/] ({target.experiment_id}).")
