"""MLflow's REST API (`/api/2.0/mlflow`, `/api/2.0/mlflow-artifacts`) onto loopml.

A translation layer only: each route parses MLflow's request message (``_wire``),
calls a loopml service, and answers in MLflow's JSON shapes (``_convert``,
``_registry_convert``). Experiments, runs, proxied artifacts and MLflow 3 logged models
go to the tracking service; registered models, versions, tags, aliases and legacy
stages go to the registry service (``_registry``), whose version snapshots the client
downloads through the artifact proxy (``mlflow-artifacts:/registry/<name>/<version>``).
"""

from __future__ import annotations

from fastapi import APIRouter

from loopml.server.mlflow import _artifacts, _experiments, _logged_models, _registry, _runs

routers: list[APIRouter] = [
    _experiments.router,
    _runs.router,
    _artifacts.router,
    _logged_models.router,
    _registry.router,
]
