"""``loopml server``: the tracking server (native API, MLflow API, metrics)."""

from __future__ import annotations

import os

import typer

from loopml.cli._output import console, fails_cleanly
from loopml.core.errors import InvalidArgument, InvalidState


@fails_cleanly
def server(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(5000, "--port", help="Port to listen on."),
    backend_store_uri: str = typer.Option(
        None, "--backend-store-uri", help="sqlite:///... or postgresql+psycopg://... "
    ),
    artifacts_uri: str = typer.Option(
        None, "--artifacts-uri", help="Where artifact bytes go: a folder or s3://bucket/prefix."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    scheduler: bool = typer.Option(
        False,
        "--scheduler",
        help="Also run pipeline schedules, monitors and automation policies.",
    ),
    scheduler_interval: float = typer.Option(
        None,
        "--scheduler-interval",
        min=0.1,
        help="Seconds between scheduler passes (schedules, monitors, policies); default 15.",
    ),
    auth: bool = typer.Option(
        False,
        "--auth",
        help="Require a user or API token on every request (create the first admin with "
        "`loopml users create-admin NAME`).",
    ),
    public_metrics: bool = typer.Option(
        False, "--public-metrics", help="With --auth, serve /metrics without credentials."
    ),
    cookie_secure: bool = typer.Option(
        False,
        "--cookie-secure",
        help="Mark the UI's session cookie Secure (HTTPS ends at a proxy in front).",
    ),
) -> None:
    """Serve the tracking API to a team (and to the unmodified mlflow client)."""
    import uvicorn  # the [server] extra; imported only to serve

    from loopml._prometheus import multiprocess_metrics

    root_uri = (ctx.find_root().obj or {}).get("tracking_uri")
    # Workers are separate processes: they read their stores from the environment.
    store_uri = backend_store_uri or root_uri
    if store_uri and store_uri.split(":", 1)[0].lower() in ("http", "https"):
        raise InvalidArgument(
            f"--backend-store-uri {store_uri!r} is a server: give the server a database "
            "(sqlite:///... or postgresql+psycopg://...)."
        )
    if store_uri:
        os.environ["LOOPML_TRACKING_URI"] = store_uri
    if artifacts_uri:
        os.environ["LOOPML_OBJECT_STORE_URI"] = artifacts_uri
    if scheduler:
        os.environ["LOOPML_SCHEDULER_ENABLED"] = "true"
    if scheduler_interval is not None:
        os.environ["LOOPML_SCHEDULER_INTERVAL_SECONDS"] = str(scheduler_interval)
    for flag, name in (
        (auth, "LOOPML_AUTH"),
        (public_metrics, "LOOPML_PUBLIC_METRICS"),
        (cookie_secure, "LOOPML_COOKIE_SECURE"),
    ):
        if flag:
            os.environ[name] = "true"
    _check_can_start()
    console.print(f"loopml server on http://{host}:{port} ({workers} worker(s))")
    with multiprocess_metrics(workers):  # one /metrics for all workers
        uvicorn.run(
            "loopml.server:app_from_settings",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )


def _check_can_start() -> None:
    """Refuse ``--auth`` without an admin here, with one clear line, not in every worker."""
    from loopml.core.settings import load_settings

    settings = load_settings()
    if not settings.auth:
        return
    from loopml.governance import Governance
    from loopml.server._app import NO_ADMIN
    from loopml.tracking import Client

    client = Client(settings=settings)
    try:
        if not Governance(client).has_admin():
            raise InvalidState(NO_ADMIN)
    finally:
        client.close()
