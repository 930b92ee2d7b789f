"""Rich progress bars and plain lines for the ``loopml data`` commands.

Kept free of Typer, so that the entry point's fast lanes (``loopml data
status`` and ``add``, see :mod:`loopml._entry`) print exactly what the
commands print without loading the CLI framework; and Rich is loaded only
to draw on a terminal: bars on stderr when it is one, lines on stdout when
it is one (elsewhere a line is printed as it is, unwrapped, for scripts).
Whether a stream is a terminal is decided by Rich's rules (``TTY_COMPATIBLE``
and ``FORCE_COLOR`` override ``isatty``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from loopml.cli import _output

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class RichProgress:
    """The :class:`loopml.data.Progress` protocol drawn as Rich bars on stderr (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bars: Progress | None = None
        self._task: TaskID | None = None

    def start(self, description: str, total: int | None, unit: str = "files") -> None:
        if not _draws_on(sys.stderr):
            return  # nothing would be drawn: spare loading Rich and its refresh thread
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        with self._lock:
            self._close()
            columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
            if unit in ("bytes", "B"):
                columns += [DownloadColumn(), TransferSpeedColumn()]
            else:
                columns += [MofNCompleteColumn(), TextColumn(unit)]
            columns.append(TimeElapsedColumn())
            self._bars = Progress(*columns, console=_output.err_console, transient=True)
            self._bars.start()
            self._task = self._bars.add_task(escape(description), total=total)

    def advance(self, amount: int = 1) -> None:
        with self._lock:
            if self._bars is not None and self._task is not None:
                self._bars.advance(self._task, amount)

    def finish(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
            self._task = None

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.finish()


@contextmanager
def progress_bars() -> Iterator[RichProgress]:
    """A :class:`RichProgress` that is closed however the block ends."""
    with RichProgress() as progress:
        yield progress


def say(message: str) -> None:
    """Print ``message`` as it is (no Rich markup, no highlighting) on stdout."""
    if not _draws_on(sys.stdout):
        print(message)
        return
    from rich.markup import escape

    _output.console.print(escape(message), highlight=False)


def _draws_on(stream: TextIO) -> bool:
    """Whether Rich would take ``stream`` for a terminal (``Console.is_terminal``'s rules)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
