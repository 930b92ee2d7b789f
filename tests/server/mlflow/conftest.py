"""The real ``mlflow`` client (3.17.2) pointed at a real ``loopml server`` subprocess."""

from __future__ import annotations

import os
from collections.abc import Iterator

import mlflow
import pytest
from live_server import LiveServer
from mlflow.tracking import MlflowClient
from mlflow_support import use_mlflow

import loopml as lm


@pytest.fixture(autouse=True)
def _mlflow_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No inherited MLFLOW_* settings, no telemetry, no retries; no run left open after."""
    for name in list(os.environ):
        if name.startswith("MLFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    yield
    for _ in range(10):
        if mlflow.active_run() is None:
            break
        try:
            mlflow.end_run()
        except Exception:  # the server may be gone already (fresh_server)
            mlflow.tracking.fluent._active_run_stack.get().clear()
    # The module-level state keeps pointing nowhere useful rather than at a stopped server.
    mlflow.set_tracking_uri("http://127.0.0.1:9")


@pytest.fixture
def ml(server: LiveServer) -> MlflowClient:
    """The mlflow client of the session's server (the fluent ``mlflow.*`` points there too)."""
    return use_mlflow(server)


@pytest.fixture
def lm_client(server: LiveServer) -> Iterator[lm.Client]:
    """loopml's own SDK on the server's database and object store, read and written directly."""
    client = lm.Client(server.tracking_uri, object_store_uri=server.object_store_uri)
    yield client
    client.close()
