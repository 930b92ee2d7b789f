"""``loopml policies``: automation policies, their runs and their history."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.automation import Policies, Policy, PolicyRun, RemotePolicies

app = typer.Typer(
    help="Automation policies: retrain, gate, canary and promote on a trigger.",
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")


def _policies(ctx: typer.Context) -> Policies | RemotePolicies:
    """The policies of the store ``--tracking-uri`` names; pipelines run on the same store."""
    from loopml.automation import open_policies
    from loopml.tracking import get_client, set_tracking_uri

    uri = (ctx.find_root().obj or {}).get("tracking_uri")
    if uri:
        set_tracking_uri(uri)  # a tick's pipeline runs go where the policies are
    return open_policies(get_client())


def _from_target(target: str) -> Policy:
    """The ``Policy`` object ``module:attribute`` names, imported from the current folder."""
    from loopml.automation import Policy

    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise InvalidArgument(f"--from takes module:policy, not {target!r}.")
    folder = str(Path.cwd())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:  # the module is missing, or its code failed
        raise InvalidArgument(f"Importing {module_name!r} failed: {exc}") from exc
    for part in attribute.split("."):
        found = getattr(found, part, None)
    if not isinstance(found, Policy):
        raise InvalidArgument(f"{target} is not a loopml.automation.Policy.")
    return found


def _run_row(run: PolicyRun) -> list[Any]:
    version = run.links.get("model_version")
    return [
        run.id,
        run.policy,
        run.state,
        run.trigger.get("type", ""),
        "" if version is None else version,
        when(run.created_time),
        run.reason,
    ]


def _links(links: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(links.items()) if v is not None)


@app.command("create")
@fails_cleanly
def create(
    ctx: typer.Context,
    file: Path = typer.Argument(None, help="A policy in YAML or JSON.", show_default=False),
    source: str = typer.Option(None, "--from", help="module:policy, a Policy in Python code."),
    replace: bool = typer.Option(False, "--replace", help="Replace a policy of that name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Save a policy (what it names must exist: model, deployment, pipeline, datasets)."""
    from loopml.automation import load_policy

    if (file is None) == (source is None):
        raise InvalidArgument("Give a policy FILE or --from module:policy (exactly one).")
    policy = load_policy(file) if file is not None else _from_target(source)
    service = _policies(ctx)
    saved = service.apply(policy) if replace else service.create(policy)
    if as_json:
        print_json(saved.to_dict())
        return
    console.print(
        escape(f"Saved policy {saved.name}: {saved.model} via {saved.pipeline}, ")
        + escape(f"deployment {saved.deployment}, {len(saved.triggers)} trigger(s).")
    )


@app.command("list")
@fails_cleanly
def list_policies(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List policies, by name."""
    found = _policies(ctx).list()
    if as_json:
        print_json([p.to_dict() for p in found])
        return
    print_table(
        "Policies",
        ["name", "model", "deployment", "pipeline", "triggers", "enabled"],
        [
            [
                p.name,
                p.model,
                p.deployment,
                p.pipeline,
                ", ".join(t["type"] for t in p.triggers) or "manual",
                "yes" if p.enabled else "no",
            ]
            for p in found
        ],
    )


@app.command("show")
@fails_cleanly
def show(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """A policy and its latest runs."""
    service = _policies(ctx)
    policy = service.get(name)
    runs = service.runs(name, limit=10)
    if as_json:
        print_json({"policy": policy.to_dict(), "runs": runs})
        return
    for key, value in policy.to_dict().items():
        console.print(f"[bold]{key}[/]: {escape(str(value))}", highlight=False)
    print_table(
        "Latest runs",
        ["run", "policy", "state", "trigger", "version", "started", "reason"],
        [_run_row(r) for r in runs],
    )


@app.command("trigger")
@fails_cleanly
def trigger(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    reason: str = typer.Option("manual", "--reason", help="Why: recorded with the run."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue a run of a policy now (the next tick runs it)."""
    run = _policies(ctx).trigger(name, reason=reason)
    if as_json:
        print_json(run)
        return
    if run.state == "skipped":
        console.print(escape(f"Run {run.id} skipped: {run.reason}."))
    else:
        console.print(
            escape(f"Run {run.id} of {run.policy} queued: `loopml policies run-pending` ")
            + escape("or the server's scheduler runs it.")
        )


@app.command("history")
@fails_cleanly
def history(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    run_id: int = typer.Option(None, "--run", help="Only this run's events."),
    limit: int = typer.Option(200, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """The events of a policy's runs, newest last, with their reasons and links."""
    found = _policies(ctx).events(name, run_id=run_id, limit=limit)
    if as_json:
        print_json(found)
        return
    print_table(
        f"History of {name}",
        ["time", "run", "step", "status", "reason", "links"],
        [[when(e.time_ms), e.run_id, e.step, e.status, e.reason, _links(e.links)] for e in found],
    )


@app.command("run-pending")
@fails_cleanly
def run_pending(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Poll the triggers and advance every active run once (what the scheduler does)."""
    runs = _policies(ctx).tick()
    if as_json:
        print_json(runs)
        return
    if not runs:
        console.print("No policy run to advance.")
        return
    print_table(
        "Advanced runs",
        ["run", "policy", "state", "trigger", "version", "started", "reason"],
        [_run_row(r) for r in runs],
    )


@app.command("delete")
@fails_cleanly
def delete(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Delete a policy (its runs and events stay as history)."""
    _policies(ctx).delete(name)
    console.print(escape(f"Deleted policy {name}."))
