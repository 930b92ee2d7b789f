"""Rendering for people (Rich tables) and scripts (``--json``), and the error seam.

Rich is imported when something is first drawn with it (``console``,
``err_console`` and tables are made on first use): loading it costs ~40 ms,
a tenth of a ``loopml data add`` of 10,000 files, which prints plain lines
when its output is not a terminal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from loopml.core.errors import LoopmlError

if TYPE_CHECKING:
    from rich.console import Console

    console: Console
    """Rich output on stdout (made on first use)."""
    err_console: Console
    """Rich output on stderr: errors, progress bars (made on first use)."""

F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def _consoles() -> tuple[Console, Console]:
    from rich.console import Console

    return Console(), Console(stderr=True)


def __getattr__(name: str) -> Any:
    if name == "console":
        return _consoles()[0]
    if name == "err_console":
        return _consoles()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fails_cleanly(func: F) -> F:
    """Turn a ``LoopmlError`` into one red line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LoopmlError as exc:
            import typer  # here: the fast lanes import this module without the CLI framework

            print_error(exc)
            raise typer.Exit(code=1) from None

    return wrapper  # type: ignore[return-value]


def print_error(exc: LoopmlError) -> None:
    """The one red line every command prints for a refused request."""
    _consoles()[1].print(f"[bold red]Error:[/] {exc.message}", highlight=False)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def print_json(value: Any) -> None:
    """Records as JSON on stdout (NaN becomes null), for scripts."""
    sys.stdout.write(json.dumps(_plain(value), indent=2, default=str) + "\n")


def when(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    _consoles()[0].print(table)
