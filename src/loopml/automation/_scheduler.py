"""Policies run on a timer inside the server, beside monitors and pipeline schedules.

Every ``interval`` seconds the policies' triggers are polled and every
active run is advanced (``Policies.tick``). With several server workers each
runs this loop: a trigger fires once (its cursors move by compare-and-set),
a model has one active run (its lock row) and a run is advanced by the one
worker holding its lease. Training runs inside the tick, so this thread is
busy while a model trains; monitors and schedules have threads of their own.
"""

from __future__ import annotations

import logging

from loopml.automation._policies import Policies
from loopml.core.periodic import Periodic
from loopml.tracking import Client

log = logging.getLogger("loopml.automation.scheduler")


class PolicyScheduler:
    """Ticks the policies every ``interval`` seconds in a daemon thread."""

    def __init__(self, client: Client, *, interval: float = 60.0) -> None:
        self.policies = Policies(client)
        self._periodic = Periodic("loopml-policies", self.tick, interval, log)

    def tick(self) -> int:
        """One pass; how many runs were advanced."""
        return len(self.policies.tick())

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
