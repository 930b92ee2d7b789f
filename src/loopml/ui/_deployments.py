"""Deployments pages: what each deployment serves, and its traffic from the prediction log.

The detail page reports, for one time window (the last 15 minutes to 7 days)
and per request (a request of many rows counts once; a shadow's mirror of it
counts for the shadow only): the request rate, latency percentiles, the error
rate, and the split between primary, canary and shadow as observed next to the
canary weight configured. The window's log segments are streamed one at a time,
only their request-level columns, into bounded accumulators (``_traffic``): the
window is never read whole. The traffic section refreshes itself every 30 seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.deployments import Deployment, Deployments
from loopml.registry import Registry
from loopml.ui import _format  # noqa: F401 - the templates' filters
from loopml.ui._render import render
from loopml.ui._route import PageRoute
from loopml.ui._services import deployments, registry
from loopml.ui._traffic import COLUMNS, MINUTE, traffic

router = APIRouter(route_class=PageRoute)

WINDOWS = {
    "15m": 15 * MINUTE,
    "1h": 60 * MINUTE,
    "6h": 360 * MINUTE,
    "24h": 1440 * MINUTE,
    "7d": 7 * 1440 * MINUTE,
}


@dataclass(frozen=True)
class Route:
    """One route of a deployment: its URI and the registry version it resolves to now."""

    role: str
    uri: str
    weight: float | None
    version: str | None
    link: str | None
    problem: str | None


def _window(text: str) -> int:
    if text not in WINDOWS:
        raise InvalidArgument(f"Invalid window {text!r}: use one of {', '.join(WINDOWS)}.")
    return WINDOWS[text]


@router.get("/deployments", response_class=HTMLResponse)
def deployments_page(
    request: Request,
    service: Deployments = Depends(deployments),
    models: Registry = Depends(registry),
) -> HTMLResponse:
    """Every deployment with the versions its routes resolve to now."""
    found = service.list()
    return render(
        request,
        "deployments.html",
        active="Deployments",
        deployments=[(d, current_routes(models, d)) for d in found],
    )


@router.get("/deployments/{name}", response_class=HTMLResponse)
def deployment_page(
    request: Request,
    name: str,
    window: str = Query("1h", max_length=8),
    service: Deployments = Depends(deployments),
    models: Registry = Depends(registry),
) -> HTMLResponse:
    """One deployment: routes, canary split, and its traffic over ``window``."""
    span = _window(window)
    deployment = service.get(name)
    until = now_ms()
    since = until - span
    return render(
        request,
        "deployment.html",
        active="Deployments",
        d=deployment,
        routes=current_routes(models, deployment),
        traffic=traffic(window_tables(service, deployment.name, since, until), since, until),
        window=window,
        windows=list(WINDOWS),
    )


def current_routes(models: Registry, deployment: Deployment) -> list[Route]:
    """Primary, canary and shadow with the version each ``models:/`` URI names now."""
    routes = [Route("primary", deployment.model_uri, None, None, None, None)]
    if deployment.canary_uri:
        routes.append(
            Route("canary", deployment.canary_uri, deployment.canary_weight, None, None, None)
        )
    if deployment.shadow_uri:
        routes.append(Route("shadow", deployment.shadow_uri, None, None, None, None))
    return [_resolved(models, r) for r in routes]


def _resolved(models: Registry, route: Route) -> Route:
    uri = route.uri
    if uri.startswith("runs:/"):
        run_id = uri[len("runs:/") :].lstrip("/").partition("/")[0]
        return Route(route.role, uri, route.weight, None, f"/runs/{quote(run_id, safe='')}", None)
    try:
        version = models.resolve(uri)
    except LoopmlError as exc:  # an alias deleted since: the page says so, it still renders
        return Route(route.role, uri, route.weight, None, None, exc.message)
    link = f"/models/{quote(version.name, safe='')}/versions/{version.version}"
    return Route(route.role, uri, route.weight, str(version.version), link, None)


# -- traffic ------------------------------------------------------------------------------
def window_tables(service: Deployments, name: str, since_ms: int, until_ms: int) -> Iterator[Any]:
    """The request-level columns of each log segment that meets the window, one at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for segment in service.list_segments(name, since_ms, until_ms):
        data = service.segments.read(segment)
        try:
            yield pq.read_table(pa.BufferReader(data), columns=list(COLUMNS))
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidArgument(
                f"Prediction segment {segment.id} of {name!r} is unreadable: {exc}"
            ) from exc
