"""What route handlers receive: the service client of this server process."""

from __future__ import annotations

from fastapi import Request

from loopml.tracking import Client


def service(request: Request) -> Client:
    """The tracking service this app serves (one per process, thread-safe)."""
    client: Client = request.app.state.client
    return client
