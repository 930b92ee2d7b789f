"""Deployments pages: what each deployment serves, and its traffic from the prediction log.

The detail page reads the prediction log of one time window (the last 15
minutes to 7 days) and reports, per request (a request of many rows counts
once; a shadow's mirror of it counts for the shadow only): the request rate,
latency percentiles, the error rate, and the split between primary, canary and
shadow as observed next to the canary weight configured. The traffic section
refreshes itself every 30 seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.deployments import Deployment, Deployments
from loopml.registry import Registry
from loopml.ui import _format  # noqa: F401 - the templates' filters
from loopml.ui._echarts import line, time_chart
from loopml.ui._render import render
from loopml.ui._route import PageRoute
from loopml.ui._services import deployments, registry

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(route_class=PageRoute)

MINUTE = 60_000
WINDOWS = {
    "15m": 15 * MINUTE,
    "1h": 60 * MINUTE,
    "6h": 360 * MINUTE,
    "24h": 1440 * MINUTE,
    "7d": 7 * 1440 * MINUTE,
}
BUCKETS = 60  # points per traffic chart
ANSWERING = ("primary", "canary")  # shadow mirrors requests; it never answers them


@dataclass(frozen=True)
class Route:
    """One route of a deployment: its URI and the registry version it resolves to now."""

    role: str
    uri: str
    weight: float | None
    version: str | None
    link: str | None
    problem: str | None


@dataclass(frozen=True)
class RouteTraffic:
    """The requests one (role, model version) pair handled in the window."""

    role: str
    model_uri: str
    model_version: str
    requests: int
    share: float | None
    error_rate: float
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class Traffic:
    """Request rate, latency and errors of a deployment over ``[since_ms, until_ms)``."""

    since_ms: int
    until_ms: int
    requests: int
    per_minute: float
    errors: int
    error_rate: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    routes: list[RouteTraffic]
    charts: dict[str, dict[str, Any]]


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
    frame = service.read_predictions(deployment.name, since_ms=since, until_ms=until)
    return render(
        request,
        "deployment.html",
        active="Deployments",
        d=deployment,
        routes=current_routes(models, deployment),
        traffic=traffic(frame, since, until),
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
def _quantile(values: pd.Series, q: float) -> float | None:
    return None if values.empty else float(values.quantile(q))


def traffic(frame: pd.DataFrame, since_ms: int, until_ms: int) -> Traffic:
    """Per-request figures of a window of the prediction log (rows as ``read_predictions``)."""
    requests = frame.drop_duplicates(["request_id", "role"])[
        ["request_id", "role", "model_uri", "model_version", "time_ms", "latency_ms", "error"]
    ].copy()
    requests["failed"] = requests["error"].notna() & (requests["error"].astype(str) != "")
    answered = requests[requests["role"].isin(ANSWERING)]
    total = len(answered)
    minutes = max((until_ms - since_ms) / MINUTE, 1e-9)
    errors = int(answered["failed"].sum())
    routes = []
    for (role, uri, version), group in requests.groupby(
        ["role", "model_uri", "model_version"], sort=True
    ):
        routes.append(
            RouteTraffic(
                role=str(role),
                model_uri=str(uri),
                model_version=str(version),
                requests=len(group),
                share=len(group) / total if total and role in ANSWERING else None,
                error_rate=float(group["failed"].mean()),
                p50=_quantile(group["latency_ms"], 0.5),
                p95=_quantile(group["latency_ms"], 0.95),
            )
        )
    return Traffic(
        since_ms=since_ms,
        until_ms=until_ms,
        requests=total,
        per_minute=total / minutes,
        errors=errors,
        error_rate=errors / total if total else None,
        p50=_quantile(answered["latency_ms"], 0.5),
        p95=_quantile(answered["latency_ms"], 0.95),
        p99=_quantile(answered["latency_ms"], 0.99),
        routes=routes,
        charts=_charts(requests, since_ms, until_ms),
    )


def _charts(requests: pd.DataFrame, since_ms: int, until_ms: int) -> dict[str, dict[str, Any]]:
    """Request rate per route, latency percentiles and error rate, in ``BUCKETS`` steps."""
    width = max((until_ms - since_ms) // BUCKETS, 1)
    xs = [since_ms + i * width for i in range(BUCKETS)]
    bucket = ((requests["time_ms"] - since_ms) // width).clip(0, BUCKETS - 1)
    requests = requests.assign(bucket=bucket)
    per_minute = MINUTE / width
    rate = []
    for role in ("primary", "canary", "shadow"):
        counts = requests[requests["role"] == role].groupby("bucket").size()
        if not counts.empty:
            rate.append(
                line(role, xs, [float(counts.get(i, 0)) * per_minute for i in range(BUCKETS)])
            )
    answered = requests[requests["role"].isin(ANSWERING)]
    by_bucket = answered.groupby("bucket")
    latency = []
    for label, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        found = by_bucket["latency_ms"].quantile(q) if not answered.empty else None
        latency.append(line(label, xs, _per_bucket(found)))
    failed = by_bucket["failed"].mean() * 100.0 if not answered.empty else None
    error_ys = _per_bucket(failed)
    return {
        "rate": time_chart("Requests per minute", "req/min", rate),
        "latency": time_chart("Latency", "ms", latency),
        "errors": time_chart("Error rate", "%", [line("errors", xs, error_ys)]),
    }


def _per_bucket(values: pd.Series | None) -> list[float | None]:
    """A value per bucket from a series indexed by bucket; None where it has none."""
    if values is None:
        return [None] * BUCKETS
    return [float(values[i]) if i in values.index else None for i in range(BUCKETS)]
