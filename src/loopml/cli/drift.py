"""``loopml drift``: compare two datasets column by column, as a CI gate.

Exit codes: 0 done (drift or not), 1 dataset drift with ``--fail-on-drift``,
2 the input is bad (a missing or unreadable file, an unknown method or column,
an option not written ``COL=VALUE``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from loopml.cli._output import console, err_console, print_table
from loopml.core.errors import InvalidArgument, LoopmlError

if TYPE_CHECKING:
    from loopml.monitoring import DriftResult

BAD_INPUT = 2
DRIFT_FOUND = 1


def drift(
    reference: str = typer.Argument(
        ..., help="Reference data: a Parquet or CSV file, or a folder of Parquet files."
    ),
    current: str = typer.Argument(..., help="Current data, in the same forms as REFERENCE."),
    html: str = typer.Option(
        None, "--html", metavar="FILE", help="Write the report as one offline HTML file."
    ),
    json_path: str = typer.Option(
        None, "--json", metavar="FILE", help="Write the report as a JSON document."
    ),
    columns: str = typer.Option(
        None,
        "--columns",
        metavar="A,B",
        help="Comma-separated columns to test (default: every testable one).",
    ),
    method: list[str] = typer.Option(
        None,
        "--method",
        metavar="COL=METHOD",
        help="COL=METHOD, e.g. age=psi (repeatable; ks, chisquare, z, ...).",
    ),
    threshold: list[str] = typer.Option(
        None,
        "--threshold",
        metavar="COL=VALUE",
        help="COL=VALUE, the drift threshold of one column (repeatable).",
    ),
    stattest_threshold: float = typer.Option(
        None,
        "--stattest-threshold",
        help="Threshold for every column (default: 0.05 for p-values, 0.1 for distances).",
    ),
    drift_share: float = typer.Option(
        0.5, "--drift-share", help="Share of drifted columns that means dataset drift."
    ),
    fail_on_drift: bool = typer.Option(
        False, "--fail-on-drift", help="Exit 1 when dataset drift is detected."
    ),
) -> None:
    """Test every column of CURRENT against REFERENCE for drift (Evidently's tests)."""
    from loopml.monitoring import drift_report
    from loopml.validation import load_frame

    try:
        per_column = _per_column(method or [], threshold or [])
        wanted = _columns(columns)
        ref_frame = load_frame(reference)
        cur_frame = load_frame(current)
        report = drift_report(
            ref_frame,
            cur_frame,
            columns=wanted,
            threshold=stattest_threshold,
            per_column=per_column,
            drift_share=drift_share,
        )
        _print(report.result)
        if html:
            console.print(f"HTML report: {escape(str(report.save_html(html)))}", soft_wrap=True)
        if json_path:
            console.print(
                f"JSON report: {escape(str(report.save_json(json_path)))}", soft_wrap=True
            )
    except LoopmlError as exc:
        err_console.print(f"[bold red]Error:[/] {escape(exc.message)}", highlight=False)
        raise typer.Exit(code=BAD_INPUT) from None
    if fail_on_drift and report.result.dataset_drift:
        raise typer.Exit(code=DRIFT_FOUND)


def _pairs(option: str, values: list[str], example: str) -> dict[str, str]:
    """``COL=VALUE`` options as a dict; a column given twice is a mistake, not an override."""
    pairs: dict[str, str] = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InvalidArgument(f"{option} {raw!r} is not COL=VALUE; write e.g. {example}")
        if name in pairs:
            raise InvalidArgument(f"{option} is given twice for column {name!r}; keep one")
        pairs[name] = value
    return pairs


def _per_column(methods: list[str], thresholds: list[str]) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for name, value in _pairs("--method", methods, "--method age=psi").items():
        options.setdefault(name, {})["method"] = value
    for name, value in _pairs("--threshold", thresholds, "--threshold age=0.2").items():
        try:
            number = float(value)
        except ValueError:
            raise InvalidArgument(
                f"--threshold {name}={value}: the threshold must be a number, e.g. {name}=0.2"
            ) from None
        options.setdefault(name, {})["threshold"] = number
    return options


def _columns(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        raise InvalidArgument("--columns is empty; write e.g. --columns age,city")
    return names


def _print(result: DriftResult) -> None:
    rows = []
    for col in result.columns:
        if col.status != "ok":
            flag = "[yellow]not tested[/]"
        else:
            flag = "[bold red]DRIFT[/]" if col.drifted else "[green]no[/]"
        rows.append(
            (
                escape(str(col.column)),
                col.column_type,
                col.method or "",
                "" if col.score is None else f"{col.score:.4g}",
                "" if col.threshold is None else f"{col.threshold:g}",
                flag,
            )
        )
    print_table("Drift", ("Column", "Type", "Method", "Score", "Threshold", "Drifted"), rows)
    for col in result.columns:
        if col.status != "ok":
            console.print(
                f"[yellow]{escape(str(col.column))}[/]: {escape(col.detail)}", highlight=False
            )
    verdict = "[bold red]Dataset drift[/]" if result.dataset_drift else "[green]No dataset drift[/]"
    console.print(
        f"{verdict}: {result.number_of_drifted_columns} of {result.number_of_tested_columns} "
        f"tested columns drifted (share {result.share:.0%}, threshold {result.drift_share:.0%}).",
        highlight=False,
    )
