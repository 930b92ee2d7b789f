"""MLflow's REST API (`/api/2.0/mlflow`, `/api/2.0/mlflow-artifacts`) onto loopml."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []
