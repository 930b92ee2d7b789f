"""What the admin command groups (users, tokens, workspaces) share.

They act on the metadata database directly, never through a server: only
someone who can reach the database may create users or mint tokens for
others. Passwords are read hidden from the terminal, or from stdin for
scripts, and never appear on the command line.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:
    from loopml.governance import Governance

PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of stdin."
)


def governance_from(ctx: typer.Context) -> Governance:
    """``Governance`` over the database ``--tracking-uri`` names; refuses a server URL."""
    from loopml.core.settings import load_settings
    from loopml.governance import Governance
    from loopml.tracking import Client

    settings = load_settings()
    uri = (ctx.find_root().obj or {}).get("tracking_uri") or settings.resolved_tracking_uri()
    if uri.lower().startswith(("http://", "https://")):
        raise InvalidArgument(
            f"{uri} is a server: users, tokens and workspaces are managed on the server host "
            "against its database (--tracking-uri <database uri>). To get a token for a "
            "server, use `loopml login`."
        )
    return Governance(Client(uri, settings=settings))


def audit(
    governance: Governance,
    action: str,
    object_type: str,
    object_id: str,
    summary: dict[str, object] | None = None,
) -> None:
    """Append the admin command's entry to the audit log, as the server does for requests.

    The actor is the operating-system user at the database (there is no login
    here); the source says it came from the command line.
    """
    from loopml.governance import AuditLog
    from loopml.registry._user import current_user

    AuditLog(governance.client).record(
        actor=current_user(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
        source="cli",
    )


def read_password(from_stdin: bool) -> str:
    """A new password: the first line of stdin, or typed twice without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidArgument("--password-stdin was given but stdin is empty.")
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password
