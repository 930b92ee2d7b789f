"""Helpers of the MLflow-compatibility tests (imported by bare name)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import mlflow
from live_server import LiveServer
from mlflow.tracking import MlflowClient

LOOPML = str(Path(sys.executable).with_name("loopml"))


def use_mlflow(live: LiveServer) -> MlflowClient:
    """Point the fluent ``mlflow`` API at ``live`` and return a client of it."""
    mlflow.set_tracking_uri(live.url)
    return MlflowClient(live.url)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def loopml_cli(live: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``loopml`` command on the server's database, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(
        LOOPML_HOME=str(live.home / "cli-home"),
        LOOPML_TRACKING_URI=live.tracking_uri,
        LOOPML_OBJECT_STORE_URI=live.object_store_uri,
        COLUMNS="200",
    )
    return subprocess.run([LOOPML, *args], capture_output=True, text=True, env=env, timeout=60)


def api(live: LiveServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A raw request to the server, for what the mlflow client would never send."""
    return httpx.request(method, live.url + path, timeout=30, **kwargs)


def raw_request(live: LiveServer, method: str, raw_path: str, body: bytes = b"") -> httpx.Response:
    """A request whose path is sent byte for byte (httpx would resolve ``..`` itself)."""
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    try:
        connection.request(method, raw_path, body=body)
        answer = connection.getresponse()
        content = answer.read()
    finally:
        connection.close()
    request = httpx.Request(method, live.url)
    return httpx.Response(answer.status, content=content, request=request)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """MLflow's error shape: the status, ``error_code`` and a message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
