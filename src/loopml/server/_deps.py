"""What route handlers receive: the services of this server process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

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


class _OverClient(Protocol):
    client: Client


S = TypeVar("S", bound=_OverClient)


def per_app(request: Request, name: str, build: Callable[[Client], S], client: Client) -> S:
    """The service ``name`` of this app, built over its tracking client once and kept.

    Built again if the app's client was replaced (tests swap it), never per request:
    services hold connection pools and caches.
    """
    found: S | None = getattr(request.app.state, name, None)
    if found is None or found.client is not client:
        found = build(client)
        setattr(request.app.state, name, found)
    return found
