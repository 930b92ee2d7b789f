"""``loopml deployments``: create, list, show, update and delete deployments; attach labels."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.deployments import Deployment, Deployments

app = typer.Typer(help="Manage deployments and label their predictions.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
MODEL_HELP = "models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>/<path>."
FEATURE_SERVICE_HELP = "A feature service: requests then carry entity keys (and request data)."


def _deployments(ctx: typer.Context) -> Deployments:
    from loopml.deployments import Deployments

    return Deployments(client_from(ctx))


def _routes(d: Deployment) -> str:
    parts = [d.model_uri]
    if d.canary_uri is not None:
        parts.append(f"canary {d.canary_uri} ({d.canary_weight:.0%})")
    if d.shadow_uri is not None:
        parts.append(f"shadow {d.shadow_uri}")
    if d.feature_service is not None:
        parts.append(f"features from service {d.feature_service}")
    return ", ".join(parts)


def _show(d: Deployment, verb: str) -> None:
    console.print(escape(f"{verb} deployment {d.name} (revision {d.revision}): {_routes(d)}."))


@app.command("create")
@fails_cleanly
def create(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    model: str = typer.Option(..., "--model", help=f"The primary model: {MODEL_HELP}"),
    canary: str = typer.Option(None, "--canary", help="A model for a share of the traffic."),
    canary_weight: float = typer.Option(0.0, "--canary-weight", help="The canary's share, 0-1."),
    shadow: str = typer.Option(None, "--shadow", help="A model mirrored every request."),
    description: str = typer.Option("", "--description"),
    feature_service: str = typer.Option(None, "--feature-service", help=FEATURE_SERVICE_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a deployment that `loopml serve --deployment NAME` follows."""
    created = _deployments(ctx).create(
        name,
        model,
        canary_uri=canary,
        canary_weight=canary_weight,
        shadow_uri=shadow,
        description=description,
        feature_service=feature_service,
    )
    if as_json:
        print_json(created)
    else:
        _show(created, "Created")


@app.command("list")
@fails_cleanly
def list_deployments(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List deployments, by name."""
    found = _deployments(ctx).list()
    if as_json:
        print_json(found)
        return
    print_table(
        "Deployments",
        ["name", "model", "canary", "weight", "shadow", "revision", "updated"],
        [
            (
                escape(d.name),
                escape(d.model_uri),
                escape(d.canary_uri or ""),
                f"{d.canary_weight:g}" if d.canary_uri else "",
                escape(d.shadow_uri or ""),
                d.revision,
                when(d.updated_time),
            )
            for d in found
        ],
    )


@app.command("show")
@fails_cleanly
def show(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Show one deployment's routes."""
    d = _deployments(ctx).get(name)
    if as_json:
        print_json(d)
        return
    tree = Tree(
        f"[bold]{escape(d.name)}[/] (revision {d.revision}, created {when(d.created_time)})"
    )
    if d.description:
        tree.add(escape(d.description))
    tree.add(escape(f"model: {d.model_uri}"))
    if d.canary_uri is not None:
        tree.add(escape(f"canary: {d.canary_uri} ({d.canary_weight:g} of requests)"))
    if d.shadow_uri is not None:
        tree.add(escape(f"shadow: {d.shadow_uri} (every request, never answered)"))
    if d.feature_service is not None:
        tree.add(escape(f"feature service: {d.feature_service} (requests carry entity keys)"))
    tree.add(f"updated {when(d.updated_time)}")
    console.print(tree)


@app.command("update")
@fails_cleanly
def update(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    model: str = typer.Option(None, "--model", help=f"A new primary model: {MODEL_HELP}"),
    canary: str = typer.Option(None, "--canary", help="A new canary model."),
    canary_weight: float = typer.Option(None, "--canary-weight", help="The canary's share."),
    no_canary: bool = typer.Option(False, "--no-canary", help="Remove the canary."),
    shadow: str = typer.Option(None, "--shadow", help="A new shadow model."),
    no_shadow: bool = typer.Option(False, "--no-shadow", help="Remove the shadow."),
    description: str = typer.Option(None, "--description"),
    feature_service: str = typer.Option(None, "--feature-service", help=FEATURE_SERVICE_HELP),
    no_feature_service: bool = typer.Option(
        False, "--no-feature-service", help="Requests carry the model's inputs again."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change the given routes of a deployment; the rest stay as they are."""
    if no_canary and canary is not None:
        raise InvalidArgument("Give --canary or --no-canary, not both.")
    if no_shadow and shadow is not None:
        raise InvalidArgument("Give --shadow or --no-shadow, not both.")
    if no_feature_service and feature_service is not None:
        raise InvalidArgument("Give --feature-service or --no-feature-service, not both.")
    given: dict[str, Any] = {
        "model_uri": model,
        "canary_uri": canary,
        "canary_weight": canary_weight,
        "shadow_uri": shadow,
        "description": description,
        "feature_service": feature_service,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    if no_feature_service:
        changes["feature_service"] = None
    if no_canary:
        changes["canary_uri"] = None
    if no_shadow:
        changes["shadow_uri"] = None
    updated = _deployments(ctx).update(name, **changes)
    if as_json:
        print_json(updated)
    else:
        _show(updated, "Updated")


@app.command("delete")
@fails_cleanly
def delete(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Delete a deployment record (its prediction log stays readable)."""
    _deployments(ctx).delete(name)
    console.print(escape(f"Deleted deployment {name}."))


@app.command("labels")
@fails_cleanly
def labels(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    path: Path = typer.Argument(..., help="A CSV file with columns request_id,label."),
) -> None:
    """Attach labels to logged requests from a CSV file (labelling again overwrites)."""
    count = _deployments(ctx).log_labels(name, _read_labels(path))
    console.print(escape(f"Stored {count} labels for deployment {name}."))


def _read_labels(path: Path) -> dict[str, Any]:
    """request_id -> label from a CSV; numbers become numbers, empty cells null."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"request_id", "label"} - set(reader.fieldnames or ())
            if missing:
                raise InvalidArgument(
                    f"{path} has no column {sorted(missing)[0]!r}: the header must name "
                    "request_id and label."
                )
            return {row["request_id"]: _value(row["label"]) for row in reader}
    except FileNotFoundError as exc:
        raise InvalidArgument(f"No such labels file: {path}.") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidArgument(f"Cannot read the labels file {path}: {exc}") from exc


def _value(text: str | None) -> Any:
    if text is None or text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
