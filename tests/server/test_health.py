"""The server process: health, readiness, Prometheus metrics, error shape."""

from __future__ import annotations

from pathlib import Path

import httpx
from live_server import LiveServer, live_server

LATENCY_HISTOGRAM = "loopml_http_request_duration_seconds_bucket"  # exported, not timed here


def test_health_and_readiness(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "object_store": "ok"}


def test_prometheus_metrics(server: LiveServer) -> None:
    httpx.get(f"{server.url}/healthz")
    text = httpx.get(f"{server.url}/metrics").text
    assert 'loopml_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert LATENCY_HISTOGRAM in text


def test_unknown_endpoint_has_the_error_shape(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/api/2.0/mlflow/nothing/here")
    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_metrics_add_up_across_workers(tmp_path: Path) -> None:
    with (
        live_server(tmp_path / "two-workers", workers=2) as two,
        httpx.Client(base_url=two.url) as http,
    ):
        for _ in range(40):  # a new connection each: they spread over the workers
            assert http.get("/healthz", headers={"Connection": "close"}).status_code == 200
        text = http.get("/metrics").text
    counted = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('loopml_http_requests_total{method="GET",route="/healthz"')
    ]
    assert counted == [41.0]  # ours, and the one /healthz with which start() saw it up
