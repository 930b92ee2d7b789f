"""Progress reporting seam: services report work done, interfaces decide how to show it.

Services take a ``progress`` argument typed by the :class:`Progress` protocol
and default to :data:`NO_PROGRESS`, a Null Object, so no service code is
sprinkled with ``if progress:`` checks. The CLI passes a Rich implementation.
A service calls ``start`` once per phase (``total`` None when unknown),
``advance`` as units complete (possibly from worker threads: implementations
must be thread-safe), and ``finish`` when the phase ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

OnRead = Callable[[int], None]
"""Told how many more bytes of a file were read (from the thread reading it)."""


class Progress(Protocol):
    """Receives the progress of one long operation, phase by phase."""

    def start(self, description: str, total: int | None, unit: str = "files") -> None:
        """A new phase begins: ``total`` units of ``unit`` (None when unknown)."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current phase are done."""

    def finish(self) -> None:
        """The current phase has ended (successfully or not)."""


class _NoProgress:
    """The Null Object: accepts every report and shows nothing."""

    def start(self, description: str, total: int | None, unit: str = "files") -> None:
        return None

    def advance(self, amount: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None

    def __repr__(self) -> str:
        return "NO_PROGRESS"


NO_PROGRESS: Progress = _NoProgress()
"""A :class:`Progress` that ignores every report; the default of every service."""


class BytesTold:
    """An ``OnRead`` for one batch of files: bytes reported as they stream, the rest at the end.

    A large file's bytes are told while it is read or written (from whichever
    thread does that); small files are not, and a Rich update costs more than
    storing one, so :meth:`rest` reports whatever the batch did not tell, once.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._told = 0

    def __call__(self, amount: int) -> None:
        self._told += amount
        self._progress.advance(amount)

    def rest(self, total: int) -> None:
        """Report what of the batch's ``total`` bytes was not told (call once it is done)."""
        self._progress.advance(max(total - self._told, 0))
