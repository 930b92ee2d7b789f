"""Prometheus metrics of the server: requests and latency by route, ingest counts, monitors.

Each app has its own registry, so several apps in one process (tests) never
collide. With several uvicorn workers (``loopml server --workers N``) the CLI
sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start: prometheus-client
then keeps every worker's values in memory-mapped files there, and whichever
worker answers ``/metrics`` sums them all, so a scrape sees the whole server.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

from loopml._prometheus import exposition
from loopml.server._monitor_metrics import monitor_exposition
from loopml.store import SqlMonitorStore


class ServerMetrics:
    """The counters a loopml server exports at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "loopml_http_requests_total",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "loopml_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["route", "method"],
            registry=self.registry,
        )
        self.metrics_ingested = Counter(
            "loopml_metrics_ingested_total",
            "Metric points written through the APIs.",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "loopml_queue_depth",
            "Items waiting in the server's write queues.",
            ["queue"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def exposition(self) -> bytes:
        """The text a scrape gets: this process's values, or every worker's summed."""
        return exposition(self.registry)


def install_metrics(app: FastAPI) -> ServerMetrics:
    metrics = ServerMetrics()
    app.state.metrics = metrics

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        metrics.requests.labels(template, request.method, str(response.status_code)).inc()
        metrics.latency.labels(template, request.method).observe(time.perf_counter() - started)
        return response

    monitors = SqlMonitorStore(app.state.client.store.db)

    @app.get("/metrics", include_in_schema=False)
    def _metrics() -> Response:
        body = metrics.exposition() + monitor_exposition(monitors)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
