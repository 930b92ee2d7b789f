"""MLflow's REST API (`/api/2.0/mlflow`, `/api/2.0/mlflow-artifacts`) onto loopml.

A translation layer only: each route parses MLflow's request message
(``_wire``), calls the tracking service, and answers in MLflow's JSON shapes
(``_convert``). Experiments, runs, proxied artifacts and MLflow 3 logged models
are served; the model registry is not (yet).
"""

from __future__ import annotations

from fastapi import APIRouter

from loopml.server.mlflow import _artifacts, _experiments, _logged_models, _runs

routers: list[APIRouter] = [
    _experiments.router,
    _runs.router,
    _artifacts.router,
    _logged_models.router,
]
