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

from loopml.core.periodic import Periodic
from loopml.monitoring._monitors import Monitors
from loopml.tracking import Client

log = logging.getLogger("loopml.monitoring.scheduler")


class MonitorScheduler:
    """Runs every monitor each ``interval`` seconds in a daemon thread."""

    def __init__(self, client: Client, *, interval: float = 60.0) -> None:
        self.monitors = Monitors(client)
        self._periodic = Periodic("loopml-monitors", self.tick, interval, log)

    def tick(self) -> int:
        """Run every monitor once; how many windows were computed."""
        return sum(len(run.results) for run in self.monitors.run_all())

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
