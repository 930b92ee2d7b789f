"""Figures of one benchmark: anchor seconds, loopml seconds, their ratio, the target.

A benchmark returns a ``Report``; ``render`` prints it as a table and
``write_json`` keeps it under ``bench/.work/`` for later comparison.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

WORK_DIR = Path(__file__).resolve().parent / ".work"


@dataclass(frozen=True)
class Row:
    """One case: the anchor's and loopml's wall time, and the speed-up wanted."""

    case: str
    anchor_seconds: float
    loopml_seconds: float | None  # None: the loopml side did not run
    target: float  # wanted anchor/loopml ratio

    @property
    def ratio(self) -> float | None:
        if not self.loopml_seconds:
            return None
        return self.anchor_seconds / self.loopml_seconds

    @property
    def passed(self) -> bool | None:
        ratio = self.ratio
        return None if ratio is None else ratio >= self.target


@dataclass(frozen=True)
class Report:
    """All cases of one benchmark, plus free-form facts worth printing."""

    name: str
    anchor: str  # e.g. "mlflow 3.17.2"
    loopml: str  # e.g. "loopml 0.1.0", or why it did not run
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


def render(report: Report, console: Console | None = None) -> None:
    """Print the report as a Rich table followed by its notes."""
    console = console or Console()
    table = Table(title=f"{report.name}: {report.anchor} vs {report.loopml}")
    table.add_column("case")
    table.add_column("anchor s", justify="right")
    table.add_column("loopml s", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="right")
    table.add_column("", justify="center")
    for row in report.rows:
        ratio = row.ratio
        mark = {True: "[green]pass[/]", False: "[red]miss[/]", None: "[yellow]n/a[/]"}
        table.add_row(
            row.case,
            f"{row.anchor_seconds:.4f}",
            "-" if row.loopml_seconds is None else f"{row.loopml_seconds:.4f}",
            "-" if ratio is None else f"{ratio:.1f}x",
            f"{row.target:g}x",
            mark[row.passed],
        )
    console.print(table)
    for note in report.notes:
        console.print(f"  {note}")


def write_json(report: Report, path: Path) -> None:
    """Write the report, with each row's ratio and verdict, as JSON."""
    data = asdict(report)
    for row, out in zip(report.rows, data["rows"], strict=True):
        out["ratio"] = row.ratio
        out["passed"] = row.passed
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
