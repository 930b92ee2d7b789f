"""``loopml sync``: send what dead processes left in the remote-logging spool."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loopml.cli._output import console, err_console, fails_cleanly, print_json


@fails_cleanly
def sync(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Replay spooled batches of crashed or cut-off runs to their servers (each stored once).

    With --tracking-uri http(s)://... only that server's spool is replayed; otherwise
    every server's. Spools of processes still running are left to them.
    """
    from loopml.core.settings import load_settings  # services load in commands (cli._context)
    from loopml.tracking import replay_spools

    settings = load_settings()
    uri = (ctx.find_root().obj or {}).get("tracking_uri") or settings.tracking_uri
    remote = uri if uri and uri.lower().startswith(("http://", "https://")) else None
    with Progress(
        TextColumn("Replaying spooled metrics, params and tags"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=as_json,
    ) as progress:
        task = progress.add_task("replay", total=None)
        report = replay_spools(
            settings, remote, lambda done, total: progress.update(task, completed=done, total=total)
        )
    if as_json:
        print_json(report)
    else:
        console.print(
            f"Replayed {report.batches} batches ({report.items} items) from {report.files} "
            "spool files."
        )
        for problem in report.rejected:
            err_console.print(f"[yellow]Rejected by the server:[/] {problem}", highlight=False)
        for problem in report.failed:
            err_console.print(f"[bold red]Kept for later:[/] {problem}", highlight=False)
    if report.failed:
        raise typer.Exit(code=1)
