"""The real ``mlflow`` client (3.17.2) pointed at a real ``loopml server`` subprocess."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_server import LiveServer
from mlflow.tracking import MlflowClient
from mlflow_support import use_mlflow

import loopml as lm
from mlflow_env import clean_mlflow_env


@pytest.fixture(autouse=True)
def _mlflow_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No inherited MLFLOW_* settings, no telemetry, no retries; no run left open after."""
    yield from clean_mlflow_env(monkeypatch)


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
