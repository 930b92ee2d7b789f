"""The client each command uses, built once from the global options.

Command modules import the services they call inside the commands (or through
the helpers here), not at the top: ``loopml serve`` and ``loopml --help`` start
without loading the tracking store, SQLAlchemy, the registry and deployments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from loopml.tracking import Client


def client_from(ctx: typer.Context) -> Client:
    """A client for the ``--tracking-uri`` given to ``loopml`` (or the settings)."""
    from loopml.core.settings import load_settings
    from loopml.tracking import Client

    root = ctx.find_root()
    uri = (root.obj or {}).get("tracking_uri")
    return Client(uri, settings=load_settings())
