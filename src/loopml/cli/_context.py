"""The client each command uses, built once from the global options."""

from __future__ import annotations

import typer

from loopml.core.settings import load_settings
from loopml.tracking import Client


def client_from(ctx: typer.Context) -> Client:
    """A client for the ``--tracking-uri`` given to ``loopml`` (or the settings)."""
    root = ctx.find_root()
    uri = (root.obj or {}).get("tracking_uri")
    return Client(uri, settings=load_settings())
