"""The FastAPI application: native API, MLflow API, health, metrics."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from loopml import __version__, ui
from loopml.core.settings import Settings, load_settings
from loopml.registry import Registry
from loopml.server import mlflow, native
from loopml.server._errors import install_error_handlers
from loopml.server._health import router as health_router
from loopml.server._prometheus import install_metrics
from loopml.server._scheduler import scheduler_lifespan
from loopml.tracking import Client


def create_app(client: Client, *, scheduler_interval: float | None = None) -> FastAPI:
    """The server application over one tracking service.

    With ``scheduler_interval`` (seconds) the app also runs pipeline schedules.
    """
    app = FastAPI(
        lifespan=scheduler_lifespan(scheduler_interval),
        title="loopml",
        version=__version__,
        description="The loopml tracking server: native API at /api/v1, MLflow's at /api/2.0.",
    )
    app.state.client = client
    app.state.registry = Registry(client)
    install_error_handlers(app)
    install_metrics(app)
    app.include_router(health_router)
    app.include_router(native.router)
    for router in mlflow.routers:
        app.include_router(router)
    app.include_router(ui.router)  # after the APIs: pages never shadow an API path
    app.mount("/static", StaticFiles(directory=ui.STATIC_DIR), name="static")
    return app


def app_from_settings(settings: Settings | None = None) -> FastAPI:
    """The app for ``loopml server`` (and each uvicorn worker): stores from the settings."""
    resolved = settings or load_settings()
    interval = resolved.scheduler_interval_seconds if resolved.scheduler_enabled else None
    return create_app(Client(settings=resolved), scheduler_interval=interval)
