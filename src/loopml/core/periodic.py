"""A function called every few seconds in a daemon thread, that nothing can stop but ``stop``.

The server's background work (pipeline schedules, monitors) runs this way:
a failing pass is logged and tried again next time, because a database that
is away for a moment must not end the server's scheduling for good.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from loopml.core.errors import LoopmlError


class Periodic:
    """Calls ``tick`` every ``interval`` seconds from ``start`` until ``stop``."""

    def __init__(
        self, name: str, tick: Callable[[], object], interval: float, log: logging.Logger
    ) -> None:
        self.name = name
        self.tick = tick
        self.interval = interval
        self.log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is started (and not yet stopped)."""
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except LoopmlError as exc:  # the database is away: try again next time
                self.log.warning("loopml: %s could not run: %s", self.name, exc.message)
            except Exception:
                self.log.exception("loopml: a pass of %s failed; it tries again", self.name)
            self._stop.wait(self.interval)
