"""``loopml models``: list, show, versions, promote, rollback and delete registered models."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.tree import Tree

from loopml.cli._context import client_from
from loopml.cli._output import console, err_console, fails_cleanly, print_json, print_table, when

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.registry import AliasEvent, Registry

app = typer.Typer(help="Inspect and manage the model registry.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
REASON_OPTION = typer.Option("", "--reason", help="Why: recorded in the alias history.")


def _registry(ctx: typer.Context) -> Registry:
    from loopml.registry import Registry

    return Registry(client_from(ctx))


def _aliases(aliases: dict[str, int]) -> str:
    return ", ".join(f"{alias}=v{version}" for alias, version in sorted(aliases.items()))


def _event(event: AliasEvent) -> str:
    """One alias move as a line of Rich markup (user text escaped)."""
    moved = "deleted" if event.version is None else f"-> v{event.version}"
    was = "" if event.previous_version is None else f" (was v{event.previous_version})"
    why = f": {event.reason}" if event.reason else ""
    gates = ", ".join(f"{g.gate} {'passed' if g.passed else 'FAILED'}" for g in event.gates)
    checked = f" [gates: {gates}]" if gates else ""
    line = (
        f"{when(event.time)} {event.alias} {moved}{was} by {event.user} ({event.action})"
        f"{why}{checked}"
    )
    return escape(line)


@app.command("list")
@fails_cleanly
def list_models(
    ctx: typer.Context,
    filter_string: str = typer.Option(
        "", "--filter", help="MLflow filter, e.g. \"name LIKE 'fraud%'\"."
    ),
    max_results: int = typer.Option(100, "--max", help="At most this many models."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List registered models, by name."""
    models = _registry(ctx).search_registered_models(filter_string or None, None, max_results)
    if as_json:
        print_json(list(models))
        return
    print_table(
        "Registered models",
        ["name", "aliases", "updated", "description"],
        [(m.name, _aliases(m.aliases), when(m.last_updated_time), m.description) for m in models],
    )


@app.command("show")
@fails_cleanly
def show_model(
    ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON_OPTION
) -> None:
    """Show one model: description, tags, aliases, newest versions and alias history."""
    registry = _registry(ctx)
    model = registry.get_registered_model(name)
    versions = registry.list_model_versions(name, 20)
    history = registry.alias_history(name)
    if as_json:
        print_json({"registered_model": model, "versions": versions, "alias_history": history})
        return
    tree = Tree(f"[bold]{escape(model.name)}[/] (created {when(model.creation_time)})")
    if model.description:
        tree.add(escape(model.description))
    tags = tree.add("[bold]tags[/]")
    for key, value in sorted(model.tags.items()):
        tags.add(escape(f"{key} = {value}"))
    aliases = tree.add("[bold]aliases[/]")
    for alias, version in sorted(model.aliases.items()):
        aliases.add(f"{alias} -> version {version}")
    branch = tree.add("[bold]versions[/] (newest first)")
    for v in versions:
        held = f" [{', '.join(v.aliases)}]" if v.aliases else ""
        branch.add(
            escape(f"v{v.version}{held} from {v.source}, {when(v.creation_time)} by {v.user}")
        )
    moves = tree.add("[bold]alias history[/]")
    for event in history:
        moves.add(_event(event))
    console.print(tree)


@app.command("versions")
@fails_cleanly
def list_versions(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    max_results: int = typer.Option(100, "--max", help="At most this many versions."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the versions of a model, newest first."""
    versions = _registry(ctx).list_model_versions(name, max_results)
    if as_json:
        print_json(versions)
        return
    print_table(
        escape(f"Versions of {name}"),
        ["version", "aliases", "stage", "created", "user", "run", "source"],
        [
            (
                v.version,
                ", ".join(v.aliases),
                v.stage,
                when(v.creation_time),
                escape(v.user),
                v.run_id or "",
                escape(v.source),
            )
            for v in versions
        ],
    )


@app.command("promote")
@fails_cleanly
def promote(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    alias: str = typer.Option("champion", "--alias", help="The alias to move."),
    gates: list[str] = typer.Option(
        None,
        "--gate",
        help="metric:<name>[:higher|lower][:<min delta>], signature, or "
        "validation[:<report path>]; repeatable.",
    ),
    reason: str = REASON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move an alias to a version if every gate passes (exit 1 and the reasons if not)."""
    from loopml.registry import parse_gate

    checks = [parse_gate(spec) for spec in gates or ()]
    result = _registry(ctx).promote(name, version, alias, checks, reason=reason)
    if as_json:
        print_json(result)
    else:
        for gate in result.gate_results:
            mark = "[green]pass[/]" if gate.passed else "[bold red]FAIL[/]"
            console.print(f"{mark} {escape(f'{gate.gate}: {gate.message}')}", highlight=False)
    if not result.promoted:
        held = result.previous_version
        stays = "unset" if held is None else f"at version {held}"
        err_console.print(
            f"[bold red]Not promoted:[/] {escape(alias)} stays {stays}.", highlight=False
        )
        raise typer.Exit(code=1)
    if not as_json:
        console.print(escape(f"{alias} -> version {version} of {name}."))


@app.command("rollback")
@fails_cleanly
def rollback(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    alias: str = typer.Argument(...),
    reason: str = REASON_OPTION,
) -> None:
    """Move an alias back to the version that held it before."""
    version = _registry(ctx).rollback(name, alias, reason=reason)
    console.print(escape(f"{alias} -> version {version.version} of {name} (rolled back)."))


@app.command("delete")
@fails_cleanly
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int = typer.Option(None, "--version", help="Delete only this version."),
) -> None:
    """Delete a model (all its versions) or one version; refused while an alias points there."""
    registry = _registry(ctx)
    if version is None:
        registry.delete_registered_model(name)
        console.print(escape(f"Deleted registered model {name}."))
    else:
        registry.delete_model_version(name, version)
        console.print(escape(f"Deleted version {version} of {name}."))


@app.command("card")
@fails_cleanly
def card(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    fmt: str = typer.Option("markdown", "--format", help="markdown or html."),
    output: Path = typer.Option(None, "--output", help="Write the card to this file."),
) -> None:
    """Render a model card: owner, intended use, data, metrics, gates, promotions, lineage."""
    from loopml.core.atomic import write_text_atomic
    from loopml.core.errors import InvalidArgument
    from loopml.governance._cards import model_card

    if fmt not in ("markdown", "html"):
        raise InvalidArgument(f"Invalid --format {fmt!r}: use markdown or html.")
    found = model_card(name, version, client_from(ctx))
    text = found.markdown() if fmt == "markdown" else found.html()
    if output is None:
        sys.stdout.write(text)
        return
    write_text_atomic(output, text)
    console.print(escape(f"Wrote the card of {name} version {version} to {output}."))
