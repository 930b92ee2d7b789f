"""The pipeline scheduler inside the server: started with the app, stopped with it.

Each uvicorn worker runs its own scheduler; they share the database, and a
slot is taken by exactly one of them (see ``loopml.pipelines._scheduler``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from loopml.pipelines._scheduler import Scheduler


def scheduler_lifespan(
    interval: float | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]] | None:
    """A lifespan running the scheduler every ``interval`` seconds; None when off."""
    if interval is None:
        return None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = Scheduler(app.state.client, interval=interval)
        scheduler.start()
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            scheduler.stop()

    return lifespan
