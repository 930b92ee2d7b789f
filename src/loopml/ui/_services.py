"""The services the registry, deployment, monitoring and data pages read.

The same instances the native API handlers use: the app's tracking client and
registry, and the datasets, deployments and monitors services kept on the app's
state under the names the API keeps them (built once per app, since they hold
connection pools and caches; built again if a test swaps the app's client).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from fastapi import Request

from loopml.datasets import Datasets
from loopml.deployments import Deployments
from loopml.monitoring import Monitors
from loopml.registry import Registry
from loopml.tracking import Client


class _OverClient(Protocol):
    client: Client


S = TypeVar("S", bound=_OverClient)


def client(request: Request) -> Client:
    """The tracking service of this server process."""
    found: Client = request.app.state.client
    return found


def registry(request: Request) -> Registry:
    """The model registry over the same stores."""
    found: Registry = request.app.state.registry
    return found


def _kept(request: Request, name: str, build: Callable[[Client], S]) -> S:
    current = client(request)
    found: S | None = getattr(request.app.state, name, None)
    if found is None or found.client is not current:
        found = build(current)
        setattr(request.app.state, name, found)
    return found


def datasets(request: Request) -> Datasets:
    """The dataset registry of this server."""
    return _kept(request, "datasets", Datasets)


def deployments(request: Request) -> Deployments:
    """The deployment records and prediction logs of this server."""
    return _kept(request, "deployments", Deployments)


def monitors(request: Request) -> Monitors:
    """The monitors and alert rules of this server."""
    return _kept(request, "monitors", Monitors)
