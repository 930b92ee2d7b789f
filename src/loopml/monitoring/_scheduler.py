"""Monitors run on a timer inside the server, beside the pipeline scheduler.

Every ``interval`` seconds each monitor computes the windows that have
completed since its last run. With several server workers every worker runs
this loop: a window's result and a rule's firing are written once (the
store's keys), so the only cost of the overlap is repeated work, never a
duplicate alert. One failing monitor (its reference data gone, say) is
logged and the others still run; nothing here can stop the server.
"""

from __future__ import annotations

import logging
import threading

from loopml.core.errors import LoopmlError
from loopml.monitoring._monitors import Monitors
from loopml.tracking import Client

log = logging.getLogger("loopml.monitoring.scheduler")


class MonitorScheduler:
    """Runs every monitor each ``interval`` seconds in a daemon thread."""

    def __init__(self, client: Client, *, interval: float = 60.0) -> None:
        self.monitors = Monitors(client)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """Run every monitor once; how many windows were computed."""
        return sum(len(run.results) for run in self.monitors.run_all())

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="loopml-monitors", daemon=True)
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
                log.warning("loopml: the monitors could not run: %s", exc.message)
            except Exception:
                log.exception("loopml: a monitor pass failed; it tries again")
            self._stop.wait(self.interval)
