"""``loopml tokens``: personal and service API tokens (run on the server host)."""

from __future__ import annotations

import typer
from rich.markup import escape

from loopml.cli._admin import audit, governance_from
from loopml.cli._output import console, err_console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument

app = typer.Typer(help="API tokens (acts on the metadata database directly).", no_args_is_help=True)

DEFAULT_DAYS = 90.0


def _state(revoked: int | None, expires: int | None) -> str:
    if revoked is not None:
        return "revoked"
    if expires is None:
        return "no expiry"
    return f"expires {when(expires)}"


@app.command("create")
@fails_cleanly
def create(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", help="Whose token it is."),
    name: str = typer.Option(..., "--name", help="What it is for, e.g. laptop or ci."),
    expires_days: float = typer.Option(
        None, "--expires-days", help=f"Lifetime in days (default {DEFAULT_DAYS:g})."
    ),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="Never expire (revoke by hand)."),
) -> None:
    """Create a token and print its secret: it is shown this once and never again."""
    if no_expiry and expires_days is not None:
        raise InvalidArgument("Give --expires-days or --no-expiry, not both.")
    days = None if no_expiry else (DEFAULT_DAYS if expires_days is None else expires_days)
    governance = governance_from(ctx)
    token = governance.create_token(user, name, expires_in_days=days)
    info = token.info
    audit(governance, "token.create", "api_token", info.id, {"user": info.user, "name": info.name})
    err_console.print(
        escape(f"Created token {info.id} ({info.name}) for {info.user}, ")
        + _state(None, info.expires_time)
        + ". [bold]Copy the secret now: it is not shown again.[/]",
        highlight=False,
    )
    typer.echo(token.secret)


@app.command("list")
@fails_cleanly
def list_tokens(
    ctx: typer.Context,
    user: str = typer.Option(None, "--user", help="Only this user's tokens."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List tokens (never their secrets)."""
    tokens = governance_from(ctx).list_tokens(user)
    if as_json:
        print_json(tokens)
        return
    print_table(
        "API tokens",
        ["id", "user", "name", "created", "last used", "state"],
        [
            [
                t.id,
                t.user,
                t.name,
                when(t.created_time),
                when(t.last_used_time),
                _state(t.revoked_time, t.expires_time),
            ]
            for t in tokens
        ],
    )


@app.command("revoke")
@fails_cleanly
def revoke(ctx: typer.Context, token_id: str = typer.Argument(..., help="The token's id.")) -> None:
    """Revoke a token: requests using it are refused from now on."""
    governance = governance_from(ctx)
    info = governance.revoke_token(token_id)
    audit(governance, "token.revoke", "api_token", info.id, {"user": info.user})
    console.print(escape(f"Revoked token {info.id} ({info.name}) of {info.user}."))
