"""The environment every test that drives the real mlflow client runs in (imported by bare name).

No inherited ``MLFLOW_*`` settings, no telemetry, no retries (a refused request
fails at once); afterwards no run is left open and the fluent API points nowhere
useful rather than at a stopped server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import mlflow
import pytest


def clean_mlflow_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The body of an autouse fixture: ``yield from clean_mlflow_env(monkeypatch)``."""
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
    mlflow.set_tracking_uri("http://127.0.0.1:9")
