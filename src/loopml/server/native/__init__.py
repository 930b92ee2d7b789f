"""The native REST API, ``/api/v1``: every tracking operation of the SDK.

Experiments, runs (logging, search, metric history, inputs), artifacts
(streamed upload and download), the model registry (``/registry``), deployments,
datasets (``/datasets``, with their content under ``/dataset-content``) and
pipelines (``/pipelines``: schedules, the step cache of remote pipeline runs),
monitors (``/monitors``: window results, reports), alerts (``/alerts``),
the feature store (``/features``: definitions, materialisations, online lookups),
automation policies (``/policies``, with their runs and events under
``/policy-runs`` and ``/policy-events``), and identity (``/auth``: whoami and
API tokens; ``/users`` and ``/workspaces`` for admins).
Handlers parse, call the tracking or registry service and render; errors are
``LoopmlError``s mapped by the app's one handler. JSON bodies are capped at
64 MiB (413); artifact uploads stream without a cap.
"""

from __future__ import annotations

from fastapi import APIRouter

from loopml.server.native import (
    _artifacts,
    _audit_api,
    _auth_api,
    _datasets,
    _deployments,
    _experiments,
    _features,
    _features_online,
    _lineage_api,
    _monitors,
    _pipelines,
    _policies,
    _registry,
    _runs,
)

router = APIRouter(prefix="/api/v1")
router.include_router(_experiments.router)
router.include_router(_runs.router)
router.include_router(_artifacts.router)
router.include_router(_registry.router)
router.include_router(_deployments.router)
router.include_router(_datasets.router)
router.include_router(_pipelines.router)
router.include_router(_monitors.router)
router.include_router(_policies.router)
router.include_router(_features.router)
router.include_router(_features_online.router)
router.include_router(_lineage_api.router)
router.include_router(_auth_api.router)
router.include_router(_audit_api.router)

__all__ = ["router"]
