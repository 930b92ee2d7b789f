"""Interface: the HTTP server (FastAPI). Thin: every rule lives in the services."""

from loopml.server._app import app_from_settings, create_app

__all__ = ["app_from_settings", "create_app"]
