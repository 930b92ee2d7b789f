"""``loopml users``: people and service accounts of a loopml server (run on its host)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from loopml.cli._admin import PASSWORD_STDIN, audit, governance_from, read_password
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when

if TYPE_CHECKING:
    from loopml.governance import User

app = typer.Typer(
    help="Users and service accounts (acts on the metadata database directly).",
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")


def _describe(user: User) -> str:
    kind = "admin" if user.is_admin else ("service account" if user.kind == "service" else "user")
    return escape(f"{kind} {user.name}")


@app.command("create-admin")
@fails_cleanly
def create_admin(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The admin's user name."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Create an admin (the first one is needed before `loopml server --auth` starts)."""
    governance = governance_from(ctx)
    user = governance.create_admin(name, read_password(password_stdin))
    audit(governance, "user.create", "user", user.name, {"kind": user.kind, "is_admin": True})
    console.print(f"Created {_describe(user)}.")


@app.command("create")
@fails_cleanly
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user name."),
    admin: bool = typer.Option(False, "--admin", help="Make the user a global admin."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Create a user with a password (prompted twice, hidden)."""
    governance = governance_from(ctx)
    user = governance.create_user(name, read_password(password_stdin), is_admin=admin)
    audit(governance, "user.create", "user", user.name, {"kind": user.kind, "is_admin": admin})
    console.print(f"Created {_describe(user)}.")


@app.command("create-service-account")
@fails_cleanly
def create_service_account(
    ctx: typer.Context, name: str = typer.Argument(..., help="The account name.")
) -> None:
    """Create a service account for CI or serving: no password, API tokens only."""
    governance = governance_from(ctx)
    user = governance.create_service_account(name)
    audit(governance, "user.create", "user", user.name, {"kind": user.kind})
    console.print(
        f"Created {_describe(user)}. Give it a token: "
        + escape(f"loopml tokens create --user {user.name} --name ci")
    )


@app.command("list")
@fails_cleanly
def list_users(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List users and service accounts."""
    users = governance_from(ctx).list_users()
    if as_json:
        print_json(users)
        return
    print_table(
        "Users",
        ["name", "kind", "admin", "disabled", "password", "created"],
        [
            [
                u.name,
                u.kind,
                "yes" if u.is_admin else "",
                "yes" if u.disabled else "",
                "set" if u.has_password else "",
                when(u.created_time),
            ]
            for u in users
        ],
    )


@app.command("disable")
@fails_cleanly
def disable(ctx: typer.Context, name: str = typer.Argument(..., help="The user name.")) -> None:
    """Disable a user: its sessions end, its password and tokens stop working."""
    governance = governance_from(ctx)
    user = governance.disable_user(name)
    audit(governance, "user.disable", "user", user.name)
    console.print(f"Disabled {_describe(user)}; its sessions ended and its tokens stopped working.")


@app.command("set-password")
@fails_cleanly
def set_password(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user name."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Set a user's password (prompted twice, hidden); lifts a login slow-down."""
    governance = governance_from(ctx)
    user = governance.get_user(name)
    governance.set_password(user.name, read_password(password_stdin))
    audit(governance, "user.set_password", "user", user.name)
    console.print(f"Password of {_describe(user)} set.")
