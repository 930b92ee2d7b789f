"""``loopml db upgrade`` and ``loopml gc``."""

from __future__ import annotations

import re

import typer

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json
from loopml.core.errors import InvalidArgument

db_app = typer.Typer(help="Manage the metadata database.", no_args_is_help=True)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_MS = {"": 1000, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    """'30d', '12h', '15m', '90s' (or plain seconds) in milliseconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise InvalidArgument(f"Invalid duration {text!r}: use e.g. 30d, 12h, 15m or 90s.")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


@db_app.command("upgrade")
@fails_cleanly
def upgrade(ctx: typer.Context) -> None:
    """Bring the database schema to the newest revision (also done on first use)."""
    client = client_from(ctx)  # opening the store runs the migrations
    console.print(f"Database {client.tracking_uri} is up to date.")


@fails_cleanly
def gc(
    ctx: typer.Context,
    older_than: str = typer.Option(
        "0s", "--older-than", help="Purge runs deleted longer ago than this, e.g. 30d."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would go."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Purge deleted runs for good, then blobs nothing refers to (after a grace period)."""
    client = client_from(ctx)
    with console.status("Collecting garbage..."):
        summary = client.gc(parse_duration_ms(older_than), dry_run=dry_run)
    if as_json:
        print_json(summary)
        return
    verb = "Would delete" if dry_run else "Deleted"
    console.print(
        f"Purged {summary.purged_runs} deleted runs. {verb} {summary.deleted_objects} objects "
        f"({summary.freed_bytes:,} bytes); kept {summary.kept_objects}."
    )
