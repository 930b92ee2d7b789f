"""The schedulers inside the server: started with the app, stopped with it.

Pipeline schedules, monitors and automation policies each get a background
thread. Each uvicorn worker runs its own; they share the database, where a
schedule slot is taken by exactly one of them (``loopml.pipelines._scheduler``),
a monitor window or alert is written once (``loopml.monitoring._scheduler``)
and a policy run is advanced by the worker holding its lease
(``loopml.automation._scheduler``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from loopml.automation import PolicyScheduler
from loopml.monitoring._scheduler import MonitorScheduler
from loopml.pipelines._scheduler import Scheduler


def scheduler_lifespan(
    interval: float | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]] | None:
    """A lifespan running the schedulers every ``interval`` seconds; None when off."""
    if interval is None:
        return None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = Scheduler(app.state.client, interval=interval)
        monitors = MonitorScheduler(app.state.client, interval=interval)
        policies = PolicyScheduler(app.state.client, interval=interval)
        scheduler.start()
        monitors.start()
        policies.start()
        app.state.scheduler = scheduler
        app.state.monitor_scheduler = monitors
        app.state.policy_scheduler = policies
        try:
            yield
        finally:
            policies.stop()
            monitors.stop()
            scheduler.stop()

    return lifespan
