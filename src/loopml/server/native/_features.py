"""``/api/v1/features``: feature definitions (versioned) and materialisation records.

Handlers parse, call the ``FeatureRegistry`` service and render; every rule
(versioning, type-change refusal, reference checks) lives in the service,
which the remote SDK reaches through these routes (``loopml.features._remote``).
An apply sends specs, not code: on-demand views travel as ``module:qualname``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from loopml.features._apply import rebuild_batch
from loopml.features._registry import FeatureRegistry
from loopml.features._registry_base import normalize_kind
from loopml.server._deps import per_app, service
from loopml.server.native import _features_schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.tracking import Client

router = APIRouter(tags=["features"], route_class=StrictJsonRoute)
DEFINITION = "/features/definitions/{kind}/{name}"


def features(request: Request, client: Client = Depends(service)) -> FeatureRegistry:
    """The feature registry over this server's metadata store (built once per app)."""
    return per_app(request, "features", FeatureRegistry, client)


@router.post("/features/apply", response_model=s.ApplyOut, summary="Apply feature definitions")
def apply(body: s.ApplyDefinitions, registry: FeatureRegistry = Depends(features)) -> s.ApplyOut:
    items = [(normalize_kind(d.kind), d.name, d.spec) for d in body.definitions]
    done = registry.apply(rebuild_batch(items, registry.entity))
    return s.ApplyOut(results=[s.ApplyResultOut(**r._asdict()) for r in done])


@router.get(
    "/features/definitions",
    response_model=s.DefinitionsOut,
    summary="The newest version of every definition, by kind and name",
)
def list_definitions(
    kind: str | None = None, registry: FeatureRegistry = Depends(features)
) -> s.DefinitionsOut:
    return s.DefinitionsOut(definitions=registry.list(kind))


@router.get(DEFINITION, response_model=s.DefinitionOut, summary="One version of a definition")
def get_definition(
    kind: str,
    name: str,
    version: int | None = Query(None, ge=1),
    registry: FeatureRegistry = Depends(features),
) -> s.DefinitionOut:
    return s.DefinitionOut(definition=registry.record(kind, name, version))


@router.get(
    DEFINITION + "/versions",
    response_model=s.DefinitionsOut,
    summary="Every version of a definition, oldest first",
)
def definition_versions(
    kind: str, name: str, registry: FeatureRegistry = Depends(features)
) -> s.DefinitionsOut:
    return s.DefinitionsOut(definitions=registry.history(kind, name))


@router.post(
    "/features/materializations",
    response_model=s.MaterializationOut,
    summary="Record that a view's rows in [start_ms, end_ms) were loaded online",
)
def record_materialization(
    body: s.RecordMaterialization, registry: FeatureRegistry = Depends(features)
) -> s.MaterializationOut:
    done = registry.record_materialization(body.view, body.start_ms, body.end_ms, body.rows)
    return s.MaterializationOut(materialization=done)


@router.get(
    "/features/materializations/{view}",
    response_model=s.MaterializationsOut,
    summary="A view's materialisations, newest first",
)
def list_materializations(
    view: str,
    limit: int = Query(100, ge=1, le=10_000),
    registry: FeatureRegistry = Depends(features),
) -> s.MaterializationsOut:
    found = registry.materializations(view, limit)
    return s.MaterializationsOut(
        materializations=found, last_materialized=registry.last_materialized(view)
    )
