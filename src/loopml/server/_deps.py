"""What route handlers receive: the services of this server process."""

from __future__ import annotations

from fastapi import Request

from loopml.registry import Registry
from loopml.tracking import Client


def service(request: Request) -> Client:
    """The tracking service this app serves (one per process, thread-safe)."""
    client: Client = request.app.state.client
    return client


def registry(request: Request) -> Registry:
    """The model registry over the same stores (one per process, thread-safe)."""
    found: Registry = request.app.state.registry
    return found
