"""``/api/v1/registry``: registered models, versions, their files, aliases, promotion.

Handlers parse, call the ``Registry`` service and render; every rule (names,
gates, refusals, history) lives in the service, which the remote SDK reaches
through these routes (``loopml.registry._rest``). Version files stream from the
object store with their blob id as ``ETag``.
"""

from __future__ import annotations

from types import EllipsisType

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from loopml.core.errors import InvalidArgument
from loopml.registry import Registry, gate_from_dict
from loopml.server._deps import registry
from loopml.server.native import _registry_schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.server.native._schemas import Empty, SetTag
from loopml.server.native._streaming import blob_response
from loopml.store import SEARCH_MODELS_MAX_RESULTS, SEARCH_VERSIONS_MAX_RESULTS

router = APIRouter(prefix="/registry", tags=["registry"], route_class=StrictJsonRoute)

MODEL = "/models/{name}"
VERSION = "/models/{name}/versions/{version}"
ALIAS = "/models/{name}/aliases/{alias}"

FILTER = Query(None, description="MLflow's registry filter language.")
ORDER_BY = Query([], description="e.g. 'name ASC' or 'last_updated_timestamp DESC'.")


# -- registered models ---------------------------------------------------------------
@router.post("/models", response_model=s.RegisteredModelOut, summary="Create a registered model")
def create_registered_model(
    body: s.CreateRegisteredModel, service: Registry = Depends(registry)
) -> s.RegisteredModelOut:
    model = service.create_registered_model(body.name, body.description, body.tags)
    return s.RegisteredModelOut(registered_model=model)


@router.get("/models", response_model=s.RegisteredModelsPage, summary="Search registered models")
def search_registered_models(
    filter: str | None = FILTER,
    order_by: list[str] = ORDER_BY,
    max_results: int = Query(100, ge=1, le=SEARCH_MODELS_MAX_RESULTS),
    page_token: str | None = Query(None),
    service: Registry = Depends(registry),
) -> s.RegisteredModelsPage:
    page = service.search_registered_models(filter, order_by, max_results, page_token)
    return s.RegisteredModelsPage(registered_models=page, next_page_token=page.token)


@router.get(MODEL, response_model=s.RegisteredModelOut, summary="Get a registered model")
def get_registered_model(name: str, service: Registry = Depends(registry)) -> s.RegisteredModelOut:
    return s.RegisteredModelOut(registered_model=service.get_registered_model(name))


@router.patch(MODEL, response_model=s.RegisteredModelOut, summary="Change a model's description")
def update_registered_model(
    name: str, body: s.UpdateRegisteredModel, service: Registry = Depends(registry)
) -> s.RegisteredModelOut:
    model = service.update_registered_model(name, body.description)
    return s.RegisteredModelOut(registered_model=model)


@router.post(f"{MODEL}/rename", response_model=s.RegisteredModelOut, summary="Rename a model")
def rename_registered_model(
    name: str, body: s.RenameRegisteredModel, service: Registry = Depends(registry)
) -> s.RegisteredModelOut:
    model = service.rename_registered_model(name, body.new_name)
    return s.RegisteredModelOut(registered_model=model)


@router.delete(
    MODEL,
    response_model=Empty,
    summary="Delete a model and its versions (refused while an alias is set)",
)
def delete_registered_model(name: str, service: Registry = Depends(registry)) -> Empty:
    service.delete_registered_model(name)
    return Empty()


@router.post(f"{MODEL}/tags", response_model=Empty, summary="Set a registered model tag")
def set_registered_model_tag(
    name: str, body: SetTag, service: Registry = Depends(registry)
) -> Empty:
    service.set_registered_model_tag(name, body.key, body.value)
    return Empty()


@router.delete(f"{MODEL}/tags/{{key:path}}", response_model=Empty, summary="Delete a model tag")
def delete_registered_model_tag(
    name: str, key: str, service: Registry = Depends(registry)
) -> Empty:
    service.delete_registered_model_tag(name, key)
    return Empty()


@router.get(
    f"{MODEL}/latest-versions",
    response_model=s.ModelVersionsOut,
    summary="The newest version in each legacy stage",
)
def get_latest_versions(
    name: str,
    stages: list[str] = Query([], description="Stages to report; all by default."),
    service: Registry = Depends(registry),
) -> s.ModelVersionsOut:
    return s.ModelVersionsOut(model_versions=service.get_latest_versions(name, stages or None))


# -- versions ------------------------------------------------------------------------------
@router.post(
    f"{MODEL}/versions",
    response_model=s.ModelVersionOut,
    summary="Register a run folder's files as the next version",
    description="The model is created if it does not exist. The files are snapshotted: the "
    "version keeps them even if the run's artifacts change later.",
)
def create_model_version(
    name: str, body: s.CreateModelVersion, service: Registry = Depends(registry)
) -> s.ModelVersionOut:
    version = service.create_model_version(
        name,
        body.source,
        run_id=body.run_id,
        description=body.description,
        tags=body.tags,
        model_id=body.model_id,
        files_source=body.files_source,
        user=body.user,
    )
    return s.ModelVersionOut(model_version=version)


@router.get("/versions", response_model=s.ModelVersionsPage, summary="Search model versions")
def search_model_versions(
    filter: str | None = FILTER,
    order_by: list[str] = ORDER_BY,
    max_results: int = Query(1000, ge=1, le=SEARCH_VERSIONS_MAX_RESULTS),
    page_token: str | None = Query(None),
    service: Registry = Depends(registry),
) -> s.ModelVersionsPage:
    page = service.search_model_versions(filter, order_by, max_results, page_token)
    return s.ModelVersionsPage(model_versions=page, next_page_token=page.token)


@router.get(VERSION, response_model=s.ModelVersionOut, summary="Get a model version")
def get_model_version(
    name: str, version: int, service: Registry = Depends(registry)
) -> s.ModelVersionOut:
    return s.ModelVersionOut(model_version=service.get_model_version(name, version))


@router.patch(VERSION, response_model=s.ModelVersionOut, summary="Change a version's description")
def update_model_version(
    name: str, version: int, body: s.UpdateModelVersion, service: Registry = Depends(registry)
) -> s.ModelVersionOut:
    updated = service.update_model_version(name, version, body.description)
    return s.ModelVersionOut(model_version=updated)


@router.delete(
    VERSION, response_model=Empty, summary="Delete a version (refused while it holds an alias)"
)
def delete_model_version(name: str, version: int, service: Registry = Depends(registry)) -> Empty:
    service.delete_model_version(name, version)
    return Empty()


@router.post(f"{VERSION}/tags", response_model=Empty, summary="Set a model version tag")
def set_model_version_tag(
    name: str, version: int, body: SetTag, service: Registry = Depends(registry)
) -> Empty:
    service.set_model_version_tag(name, version, body.key, body.value)
    return Empty()


@router.delete(f"{VERSION}/tags/{{key:path}}", response_model=Empty, summary="Delete a version tag")
def delete_model_version_tag(
    name: str, version: int, key: str, service: Registry = Depends(registry)
) -> Empty:
    service.delete_model_version_tag(name, version, key)
    return Empty()


@router.post(
    f"{VERSION}/stage", response_model=s.ModelVersionOut, summary="Move a version to a stage"
)
def transition_stage(
    name: str, version: int, body: s.TransitionStage, service: Registry = Depends(registry)
) -> s.ModelVersionOut:
    moved = service.transition_stage(name, version, body.stage, body.archive_existing_versions)
    return s.ModelVersionOut(model_version=moved)


@router.get(f"{VERSION}/files", response_model=s.FilesOut, summary="A version's files")
def list_model_version_files(
    name: str, version: int, service: Registry = Depends(registry)
) -> s.FilesOut:
    return s.FilesOut(files=service.model_version_files(name, version))


@router.get(
    f"{VERSION}/files/{{path:path}}",
    summary="Download one file of a version",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_model_version_file(
    name: str, version: int, path: str, service: Registry = Depends(registry)
) -> StreamingResponse:
    file, reader = service.open_model_version_file(name, version, path)
    return blob_response(reader, file.size, file.blob_id)


@router.get(
    "/resolve", response_model=s.ModelVersionOut, summary="The version a models:/ URI names"
)
def resolve(
    uri: str = Query(..., description="models:/<name>/<version> or models:/<name>@<alias>"),
    service: Registry = Depends(registry),
) -> s.ModelVersionOut:
    return s.ModelVersionOut(model_version=service.resolve(uri))


# -- aliases ----------------------------------------------------------------------------
@router.get(ALIAS, response_model=s.ModelVersionOut, summary="The version an alias points at")
def get_model_version_by_alias(
    name: str, alias: str, service: Registry = Depends(registry)
) -> s.ModelVersionOut:
    return s.ModelVersionOut(model_version=service.get_model_version_by_alias(name, alias))


@router.put(ALIAS, response_model=s.AliasEventOut, summary="Point an alias at a version")
def set_alias(
    name: str, alias: str, body: s.SetAlias, service: Registry = Depends(registry)
) -> s.AliasEventOut:
    event = service.move_alias(
        name,
        alias,
        body.version,
        reason=body.reason,
        user=body.user,
        action=body.action,
        expected=... if body.expected is None else body.expected.version,
        gates=body.gate_results(),
    )
    return s.AliasEventOut(event=event)


@router.delete(ALIAS, response_model=s.AliasEventOut, summary="Delete an alias")
def delete_alias(
    name: str,
    alias: str,
    reason: str = Query(""),
    user: str | None = Query(None),
    expected: str | None = Query(None, description="'unset' or the version it must hold."),
    service: Registry = Depends(registry),
) -> s.AliasEventOut:
    event = service.move_alias(
        name,
        alias,
        None,
        reason=reason,
        user=user,
        action="delete",
        expected=_expected(expected),
    )
    return s.AliasEventOut(event=event)


def _expected(text: str | None) -> int | EllipsisType | None:
    if text is None:
        return ...
    if text == "unset":
        return None
    if text.isdigit() and len(text) < 12:
        return int(text)
    raise InvalidArgument(f"Invalid expected holder {text!r}: 'unset' or a version number.")


@router.get(
    f"{MODEL}/alias-history",
    response_model=s.AliasEventsOut,
    summary="Every alias move, oldest first: who, when, why",
)
def alias_history(
    name: str,
    alias: str | None = Query(None, description="One alias; every alias by default."),
    service: Registry = Depends(registry),
) -> s.AliasEventsOut:
    return s.AliasEventsOut(events=service.alias_history(name, alias))


@router.post(
    f"{MODEL}/promote",
    response_model=s.PromotionOut,
    summary="Move an alias to a version if every gate passes",
    description="A failed gate leaves the alias where it was; the result says why. With "
    "`raise_on_failure` the answer is then 409 INVALID_STATE.",
)
def promote(name: str, body: s.Promote, service: Registry = Depends(registry)) -> s.PromotionOut:
    gates = [gate_from_dict(spec) for spec in body.gate_specs()]
    result = service.promote(
        name,
        body.version,
        body.alias,
        gates,
        reason=body.reason,
        user=body.user,
        raise_on_failure=body.raise_on_failure,
    )
    return s.PromotionOut(result=result)


@router.post(
    f"{ALIAS}/rollback",
    response_model=s.ModelVersionOut,
    summary="Move an alias back to its previous holder",
)
def rollback(
    name: str, alias: str, body: s.Rollback, service: Registry = Depends(registry)
) -> s.ModelVersionOut:
    version = service.rollback(name, alias, reason=body.reason, user=body.user)
    return s.ModelVersionOut(model_version=version)
