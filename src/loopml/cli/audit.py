"""``loopml audit``: verify, list and export the hash-chained audit log.

Against a database URI the commands read the audit tables directly; against a
server (``http(s)://``) they call its ``/api/v1/audit`` routes, which only an
administrator may use. Times are UTC.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from loopml.cli._context import client_from
from loopml.cli._output import console, err_console, fails_cleanly, print_json, print_table
from loopml.core.errors import StorageError

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.governance._audit import AuditEntry, AuditFilters, AuditLog
    from loopml.governance._audit_remote import RemoteAuditLog

app = typer.Typer(
    help="The audit log: who did what, when, to which object; tamper-evident.",
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
SINCE = typer.Option(None, "--since", help="From: 2026-11-01, 2026-11-01T14:30, 7d, 24h, 30m.")
UNTIL = typer.Option(None, "--until", help="Before this time (same forms as --since).")
USER = typer.Option(None, "--user", help="Only entries by this user.")
OBJECT = typer.Option(None, "--object", help="TYPE or TYPE:ID, e.g. registered_model:churn.")


def _audit(ctx: typer.Context) -> AuditLog | RemoteAuditLog:
    from loopml.governance._audit_remote import open_audit_log

    return open_audit_log(client_from(ctx))


def _filters(
    since: str | None, until: str | None, user: str | None, target: str | None
) -> AuditFilters:
    """The command-line filters as ``AuditLog`` takes them (InvalidArgument if malformed)."""
    from loopml.governance._audit import filters_from_text
    from loopml.governance._audit_fields import parse_object

    object_type, object_id = parse_object(target) if target is not None else (None, None)
    return filters_from_text(since, until, user, object_type, object_id)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _row(entry: AuditEntry) -> list[str]:
    summary = entry.summary
    target = entry.object_type + (f":{entry.object_id}" if entry.object_id else "")
    return [
        str(entry.seq),
        _utc(entry.time),
        entry.actor,
        entry.action,
        target,
        str(summary.get("outcome", "")),
        entry.source,
        entry.request_id,
    ]


@app.command("verify")
@fails_cleanly
def verify(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Walk the whole chain; exit 1 and list every edited, missing or reordered entry."""
    result = _audit(ctx).verify()
    if as_json:
        print_json(result)
    elif result.ok:
        head = f" (head {result.last_hash[:16]})" if result.last_hash else ""
        console.print(f"{result.checked} entries, chain intact{head}.", highlight=False)
    else:
        err_console.print(
            f"[bold red]The audit log was tampered with:[/] {len(result.problems)} problem(s) "
            f"in {result.checked} entries checked.",
            highlight=False,
        )
        for problem in result.problems:
            err_console.print(f"  - {escape(problem)}", highlight=False)
    if not result.ok:
        raise typer.Exit(code=1)


@app.command("list")
@fails_cleanly
def list_entries(
    ctx: typer.Context,
    since: str = SINCE,
    until: str = UNTIL,
    user: str = USER,
    target: str = OBJECT,
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List entries, newest first."""
    filters = _filters(since, until, user, target)
    entries = _audit(ctx).list(**filters, limit=limit)
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    if not entries:
        console.print("No audit entry matches.")
        return
    print_table(
        "Audit log (UTC)",
        ["seq", "time", "user", "action", "object", "outcome", "source", "request"],
        [[escape(cell) for cell in _row(e)] for e in entries],
    )


@app.command("export")
@fails_cleanly
def export(
    ctx: typer.Context,
    output: Path = typer.Option(None, "--output", "-o", help="Write here (default: stdout)."),
    since: str = SINCE,
    until: str = UNTIL,
    user: str = USER,
    target: str = OBJECT,
) -> None:
    """Export entries as JSON lines, oldest first (a file is written whole or not at all)."""
    from loopml.objects import write_chunks_atomically

    lines = _audit(ctx).lines(**_filters(since, until, user, target))
    counted = [0]

    def encoded() -> Iterator[bytes]:
        for line in lines:
            counted[0] += 1
            yield line.encode("utf-8")

    if output is None:
        for line in lines:
            sys.stdout.write(line)
            counted[0] += 1
    else:
        try:
            write_chunks_atomically(output, encoded())
        except OSError as exc:
            raise StorageError(f"Cannot write {output}: {exc.strerror or exc}") from exc
    count = counted[0]
    where = "" if output is None else f" to {output}"
    err_console.print(escape(f"Exported {count} entries{where}."), highlight=False)
