"""``loopml validate``: run a check suite on a dataset, as a CI gate.

Exit codes: 0 every check passed, 1 a check failed, 2 the input is bad (a
missing data or suite file, a suite that does not parse, an unknown run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from loopml.cli._context import client_from
from loopml.cli._output import console, err_console, print_json, print_table
from loopml.core.errors import LoopmlError

if TYPE_CHECKING:
    from loopml.validation import ValidationResult

BAD_INPUT = 2
ARTIFACT_FILE = "validation/result.json"


def validate(
    ctx: typer.Context,
    data: str = typer.Argument(..., help="A Parquet or CSV file, or a folder of Parquet files."),
    suite: str = typer.Option(..., "--suite", help="The YAML check suite to run."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    log_to_run: str = typer.Option(
        None,
        "--log-to-run",
        help="Log the result (artifact validation/result.json) and pass/fail counts to this run.",
    ),
) -> None:
    """Validate DATA against a check suite; exit 1 when a check fails (a CI gate)."""
    from loopml.validation import Suite

    try:
        result = Suite.from_yaml(suite).run(data)
        if log_to_run:
            _log(ctx, log_to_run, result)
    except LoopmlError as exc:
        err_console.print(f"[bold red]Error:[/] {exc.message}", highlight=False)
        raise typer.Exit(code=BAD_INPUT) from None
    if as_json:
        print_json(result.to_dict())
    else:
        _print(result)
    if not result.passed:
        raise typer.Exit(code=1)


def _log(ctx: typer.Context, run_id: str, result: ValidationResult) -> None:
    client = client_from(ctx)
    summary = result.to_dict()
    client.get_run(run_id)  # an unknown run fails here, before anything is written
    client.log_dict(run_id, summary, ARTIFACT_FILE)
    client.log_metric(run_id, "validation_checks_passed", float(summary["checks_passed"]))
    client.log_metric(run_id, "validation_checks_failed", float(summary["checks_failed"]))


def _print(result: ValidationResult) -> None:
    rows = [
        (
            check.name,
            "[green]pass[/]" if check.passed else "[bold red]FAIL[/]",
            "" if check.observed is None else check.observed,
            check.message,
        )
        for check in result.results
    ]
    print_table("Validation", ("Check", "Result", "Observed", "Message"), rows)
    failed = len(result.failed)
    if failed:
        console.print(f"[bold red]{failed} of {len(result.results)} check(s) failed.[/]")
    else:
        console.print(f"[green]All {len(result.results)} check(s) passed.[/]")
