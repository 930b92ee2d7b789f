"""Helpers shared by the deployment tests (embedded and remote)."""

from __future__ import annotations

import uuid
from typing import Any

from loopml.deployments import PredictionRecord


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def prediction(
    deployment: str,
    request_id: str,
    time_ms: int,
    *,
    rows: int = 1,
    outputs: list[Any] | None = None,
    role: str = "primary",
    error: str | None = None,
) -> PredictionRecord:
    return PredictionRecord(
        request_id=request_id,
        time_ms=time_ms,
        deployment=deployment,
        model_uri=f"models:/{deployment}@champion",
        model_version="3",
        role=role,
        inputs={"x": [float(i) for i in range(rows)], "city": ["paris"] * rows},
        outputs=[0.5 + i for i in range(rows)] if outputs is None else outputs,
        latency_ms=1.5,
        error=error,
    )
