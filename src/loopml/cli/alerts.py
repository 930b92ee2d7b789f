"""``loopml alerts``: alert rules on monitors, and the events they fired."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.monitoring import Monitors, RemoteMonitors
    from loopml.store import AlertRule

app = typer.Typer(help="Alert rules on monitors, and the alerts they fired.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")


def _monitors(ctx: typer.Context) -> Monitors | RemoteMonitors:
    from loopml.monitoring import open_monitors

    return open_monitors(client_from(ctx))


def _shown(rule: AlertRule) -> AlertRule:
    from loopml.monitoring import redacted_rule

    # An embedded store hands back whole destinations; a server already redacted them.
    if any("secret" in d for d in rule.destinations):
        return redacted_rule(rule)
    return rule


def _destinations(rule: AlertRule) -> str:
    return ", ".join(f"{d.get('kind')} {d.get('url')}" for d in rule.destinations) or "-"


@app.command("add")
@fails_cleanly
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The rule's name."),
    monitor: str = typer.Option(..., "--monitor", help="The monitor whose windows it reads."),
    when_: str = typer.Option(
        ..., "--when", help="The condition, such as 'accuracy < 0.8 for 2 windows'."
    ),
    webhook: list[str] = typer.Option([], "--webhook", help="A webhook URL (repeatable)."),
    slack: list[str] = typer.Option([], "--slack", help="A Slack incoming-webhook URL."),
    secret_env: str = typer.Option(
        None, "--secret-env", help="The environment variable holding the webhooks' HMAC secret."
    ),
    cooldown: str = typer.Option("1h", "--cooldown", help="Least window time between alerts."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an alert rule; it fires when a monitor run finds its condition met."""
    secret = None
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise InvalidArgument(
                f"--secret-env {secret_env}: that environment variable is not set or empty."
            )
    created = _monitors(ctx).add_rule(
        name, monitor, when_, cooldown=cooldown, webhooks=webhook, slack=slack, secret=secret
    )
    if as_json:
        print_json(_shown(created))
        return
    console.print(
        escape(f"Added alert rule {created.name} on {created.monitor}: {created.condition}")
        + escape(f" -> {_destinations(_shown(created))}.")
    )


@app.command("rules")
@fails_cleanly
def rules(
    ctx: typer.Context,
    monitor: str = typer.Option(None, "--monitor", help="Only this monitor's rules."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List alert rules, by name."""
    found = [_shown(r) for r in _monitors(ctx).rules(monitor)]
    if as_json:
        print_json(found)
        return
    print_table(
        "Alert rules",
        ["name", "monitor", "condition", "enabled", "destinations", "last fired"],
        [
            [
                r.name,
                r.monitor,
                r.condition,
                "yes" if r.enabled else "no",
                _destinations(r),
                when(r.last_fired_window_end),
            ]
            for r in found
        ],
    )


@app.command("enable")
@fails_cleanly
def enable(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Turn an alert rule on."""
    _monitors(ctx).set_rule_enabled(name, True)
    console.print(escape(f"Enabled alert rule {name}."))


@app.command("disable")
@fails_cleanly
def disable(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Turn an alert rule off (it keeps its history)."""
    _monitors(ctx).set_rule_enabled(name, False)
    console.print(escape(f"Disabled alert rule {name}."))


@app.command("remove")
@fails_cleanly
def remove(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Delete an alert rule; the alerts it fired stay listed."""
    _monitors(ctx).remove_rule(name)
    console.print(escape(f"Removed alert rule {name}."))


@app.command("list")
@fails_cleanly
def list_events(
    ctx: typer.Context,
    rule: str = typer.Option(None, "--rule", help="Only this rule's alerts."),
    monitor: str = typer.Option(None, "--monitor", help="Only this monitor's alerts."),
    after: int = typer.Option(None, "--after", help="Alerts after this id, oldest first."),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the alerts fired: newest first (or after an id, oldest first)."""
    found = _monitors(ctx).events(rule=rule, monitor=monitor, after_id=after, limit=limit)
    if as_json:
        print_json(found)
        return
    print_table(
        "Alerts",
        ["id", "fired", "rule", "monitor", "window", "message", "delivered"],
        [
            [
                e.id,
                when(e.time),
                e.rule,
                e.monitor,
                when(e.window_start),
                e.message,
                ", ".join(
                    "ok" if d.get("ok") else f"failed ({d.get('error')})" for d in e.deliveries
                )
                or "-",
            ]
            for e in found
        ],
    )
