"""``loopml workspaces``: projects, their members and roles (run on the server host)."""

from __future__ import annotations

import typer
from rich.markup import escape

from loopml.cli._admin import audit, governance_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when

app = typer.Typer(
    help="Workspaces, members and roles (acts on the metadata database directly).",
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
WORKSPACE = typer.Argument(..., help="The workspace.")
ROLES = "viewer, editor, maintainer or admin"


@app.command("create")
@fails_cleanly
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The workspace name."),
    description: str = typer.Option("", "--description", help="What it is for."),
) -> None:
    """Create a workspace."""
    governance = governance_from(ctx)
    workspace = governance.create_workspace(name, description)
    audit(governance, "workspace.create", "workspace", workspace.name)
    console.print(escape(f"Created workspace {workspace.name}."))


@app.command("list")
@fails_cleanly
def list_workspaces(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List workspaces ("default" holds every object not assigned elsewhere)."""
    workspaces = governance_from(ctx).list_workspaces()
    if as_json:
        print_json(workspaces)
        return
    print_table(
        "Workspaces",
        ["name", "description", "created"],
        [[w.name, w.description, when(w.created_time)] for w in workspaces],
    )


@app.command("add-member")
@fails_cleanly
def add_member(
    ctx: typer.Context,
    workspace: str = WORKSPACE,
    user: str = typer.Argument(..., help="The user or service account."),
    role: str = typer.Option(..., "--role", help=f"The role: {ROLES}."),
) -> None:
    """Give a user a role in a workspace (replacing the role it had there)."""
    governance = governance_from(ctx)
    governance.add_member(workspace, user, role)
    audit(governance, "workspace.add_member", "workspace", workspace, {"user": user, "role": role})
    console.print(escape(f"{user} is now {role} in {workspace}."))


@app.command("remove-member")
@fails_cleanly
def remove_member(
    ctx: typer.Context,
    workspace: str = WORKSPACE,
    user: str = typer.Argument(..., help="The member to remove."),
) -> None:
    """Take a user out of a workspace (effective on its next request)."""
    governance = governance_from(ctx)
    governance.remove_member(workspace, user)
    audit(governance, "workspace.remove_member", "workspace", workspace, {"user": user})
    console.print(escape(f"Removed {user} from {workspace}."))


@app.command("members")
@fails_cleanly
def members(
    ctx: typer.Context,
    workspace: str = WORKSPACE,
    as_json: bool = JSON_OPTION,
) -> None:
    """List a workspace's members and their roles."""
    found = governance_from(ctx).members(workspace)
    if as_json:
        print_json(
            [{"workspace": m.workspace, "user": m.user, "role": m.role.value} for m in found]
        )
        return
    print_table(
        f"Members of {workspace}", ["user", "role"], [[m.user, m.role.value] for m in found]
    )
