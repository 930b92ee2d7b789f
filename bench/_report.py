"""Figures of one benchmark: anchor seconds, loopml seconds, their ratio, the target.

A benchmark returns a ``Report``; ``render`` prints it as a table and
``write_json`` keeps it under ``bench/.work/`` for later comparison. Figures
are wall seconds unless a row names another unit: one ending in ``/s`` is a
rate (higher is better), any other a duration (lower is better).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

WORK_DIR = Path(__file__).resolve().parent / ".work"


@dataclass(frozen=True)
class Row:
    """One case: the anchor's and loopml's figure, and what loopml must reach.

    ``target`` is the speed-up wanted over the anchor; ``floor`` an absolute
    figure, in ``unit``, loopml must reach on its own (a case with only a
    floor may have no anchor figure). A row with both must meet both.
    """

    case: str
    anchor_seconds: float | None  # in `unit`; None: no anchor figure for this case
    loopml_seconds: float | None  # in `unit`; None: the loopml side did not run
    target: float | None  # wanted speed-up over the anchor; None: only `floor` counts
    unit: str = "s"
    floor: float | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.unit.endswith("/s")

    @property
    def ratio(self) -> float | None:
        """How many times better loopml's figure is than the anchor's."""
        if self.anchor_seconds is None or self.loopml_seconds is None:
            return None
        if self.higher_is_better:
            return self.loopml_seconds / self.anchor_seconds if self.anchor_seconds else None
        return self.anchor_seconds / self.loopml_seconds if self.loopml_seconds else None

    @property
    def passed(self) -> bool | None:
        verdicts: list[bool] = []
        if self.target is not None:
            ratio = self.ratio
            if ratio is None:
                return None
            verdicts.append(ratio >= self.target)
        if self.floor is not None:
            if self.loopml_seconds is None:
                return None
            if self.higher_is_better:
                verdicts.append(self.loopml_seconds >= self.floor)
            else:
                verdicts.append(self.loopml_seconds <= self.floor)
        return all(verdicts) if verdicts else None


@dataclass(frozen=True)
class Report:
    """All cases of one benchmark, plus free-form facts worth printing."""

    name: str
    anchor: str  # e.g. "mlflow 3.17.2"
    loopml: str  # e.g. "loopml 0.1.0", or why it did not run
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


def load_note(load_before: float) -> str:
    """The note that says how busy the machine was (load average before the run and now)."""
    return (
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"({os.cpu_count()} cores); figures from a busy machine are noisy"
    )


def render(report: Report, console: Console | None = None) -> None:
    """Print the report as a Rich table followed by its notes."""
    console = console or Console()
    units = {row.unit for row in report.rows}
    seconds_only = units <= {"s"}  # the original layout: no unit column
    table = Table(title=f"{report.name}: {report.anchor} vs {report.loopml}")
    table.add_column("case")
    table.add_column("anchor s" if seconds_only else "anchor", justify="right")
    table.add_column("loopml s" if seconds_only else "loopml", justify="right")
    if not seconds_only:
        table.add_column("unit")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="right")
    table.add_column("", justify="center")
    mark = {True: "[green]pass[/]", False: "[red]miss[/]", None: "[yellow]n/a[/]"}
    for row in report.rows:
        ratio = row.ratio
        cells = [
            row.case,
            _figure(row.anchor_seconds, row.unit),
            _figure(row.loopml_seconds, row.unit),
        ]
        if not seconds_only:
            cells.append(row.unit)
        cells += ["-" if ratio is None else f"{ratio:.1f}x", _target(row), mark[row.passed]]
        table.add_row(*cells)
    console.print(table)
    for note in report.notes:
        console.print(f"  {note}")


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.4f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _target(row: Row) -> str:
    parts = [] if row.target is None else [f"{row.target:g}x"]
    if row.floor is not None:
        parts.append(f"{'>=' if row.higher_is_better else '<='}{_figure(row.floor, row.unit)}")
    return ", ".join(parts) or "-"


def write_json(report: Report, path: Path) -> None:
    """Write the report, with each row's ratio and verdict, as JSON."""
    data = asdict(report)
    for row, out in zip(report.rows, data["rows"], strict=True):
        out["ratio"] = row.ratio
        out["passed"] = row.passed
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
