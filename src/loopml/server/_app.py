"""The FastAPI application: native API, MLflow API, health, metrics."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from loopml import __version__, ui
from loopml.core.errors import InvalidState
from loopml.core.settings import Settings, load_settings
from loopml.governance import Governance
from loopml.registry import Registry
from loopml.server import mlflow, native
from loopml.server._audit import install_audit
from loopml.server._auth import AuthMiddleware
from loopml.server._auth_login import router as login_router
from loopml.server._authorization import authorization_dependencies
from loopml.server._errors import install_error_handlers
from loopml.server._health import router as health_router
from loopml.server._prometheus import install_metrics
from loopml.server._scheduler import scheduler_lifespan
from loopml.tracking import Client

NO_ADMIN = "Auth is on but there is no admin user: run `loopml users create-admin NAME` first."


def create_app(
    client: Client,
    *,
    auth: bool = False,
    public_metrics: bool = False,
    cookie_secure: bool = False,
    scheduler_interval: float | None = None,
) -> FastAPI:
    """The server application over one tracking service.

    With ``auth`` every request but the public ones (health, login, static
    files, and ``/metrics`` with ``public_metrics``) must prove a user: the app
    refuses to start (InvalidState) until an admin exists. ``cookie_secure``
    marks the UI's session cookie Secure even over plain HTTP (TLS ends at a
    proxy). With ``scheduler_interval`` (seconds) the app also runs pipeline
    schedules.
    """
    if auth and not Governance(client).has_admin():
        raise InvalidState(NO_ADMIN)
    app = FastAPI(
        lifespan=scheduler_lifespan(scheduler_interval),
        title="loopml",
        version=__version__,
        description="The loopml tracking server: native API at /api/v1, MLflow's at /api/2.0.",
        dependencies=authorization_dependencies() if auth else [],  # roles, per route
    )
    app.state.client = client
    app.state.registry = Registry(client)
    app.state.cookie_secure = cookie_secure
    install_error_handlers(app)
    install_metrics(app)
    app.add_middleware(AuthMiddleware, auth=auth, public_metrics=public_metrics)
    # Outermost, so authentication's own refusals are recorded too; it reads the
    # principal that authentication leaves in the request's state after the response.
    install_audit(app)
    app.include_router(health_router)
    app.include_router(login_router)
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
    return create_app(
        Client(settings=resolved),
        auth=resolved.auth,
        public_metrics=resolved.public_metrics,
        cookie_secure=resolved.cookie_secure,
        scheduler_interval=interval,
    )
