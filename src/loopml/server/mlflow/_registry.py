"""MLflow's model-registry endpoints, onto loopml's registry service.

``/api/2.0/mlflow/registered-models/...`` (create, get, search, rename, update, delete,
tags, aliases, latest versions) and ``/api/2.0/mlflow/model-versions/...`` (create, get,
search, update, delete, tags, stage transitions, download URI).

A translation layer only: each route parses MLflow's request message, calls
``loopml.registry.Registry`` (the same service the SDK, the CLI and ``/api/v1`` use),
and answers in MLflow's JSON (``_registry_convert``). Where MLflow's ``source`` points
is mapped to a run of this server before anything is written (``_registry_sources``);
a version's files are served from its immutable snapshot (``_registry_files``).

Where loopml's rules are stricter than MLflow's, loopml's win and say why: a version
(or a registered model) that holds an alias is not deleted until the alias is moved
or deleted.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from loopml.core.errors import AlreadyExists
from loopml.registry import Registry
from loopml.server._deps import registry, service
from loopml.server.mlflow._registry_convert import (
    RegistryAlreadyExists,
    canonical_stage,
    canonical_stages,
    model_filter,
    model_version_json,
    registered_model_json,
    version_number,
)
from loopml.server.mlflow._registry_files import download_uri
from loopml.server.mlflow._registry_sources import version_source
from loopml.server.mlflow._wire import Int64, KeyValue, Message, ok, parsed, required
from loopml.tracking import Client

router = APIRouter(prefix="/api/2.0/mlflow", include_in_schema=False)
_MODELS = "/registered-models"
_VERSIONS = "/model-versions"


class Name(Message):
    name: str = ""


class CreateRegisteredModel(Message):
    name: str = ""
    tags: list[KeyValue] = []
    description: str = ""


class RenameRegisteredModel(Message):
    name: str = ""
    new_name: str = ""


class UpdateRegisteredModel(Message):
    name: str = ""
    description: str = ""


class Search(Message):
    filter: str = ""
    max_results: Int64 | None = None
    order_by: list[str] = []
    page_token: str = ""


class GetLatestVersions(Message):
    name: str = ""
    stages: list[str] = []


class ModelTag(Message):
    name: str = ""
    key: str = ""
    value: str = ""


class CreateModelVersion(Message):
    name: str = ""
    source: str = ""
    run_id: str = ""
    tags: list[KeyValue] = []
    run_link: str = ""
    description: str = ""
    model_id: str = ""


class VersionRef(Message):
    name: str = ""
    version: str | int = ""


class UpdateModelVersion(VersionRef):
    description: str = ""


class TransitionStage(VersionRef):
    stage: str = ""
    archive_existing_versions: bool = False


class VersionTag(VersionRef):
    key: str = ""
    value: str = ""


class Alias(Message):
    name: str = ""
    alias: str = ""
    version: str | int = ""


def _model(reg: Registry, name: str) -> Response:
    model = reg.get_registered_model(name)
    return ok({"registered_model": registered_model_json(model, reg.get_latest_versions(name))})


def _version(req: VersionRef) -> tuple[str, int]:
    return required(req.name, "name"), version_number(req.version)


# -- registered models -----------------------------------------------------------------


@router.post(_MODELS + "/create")
def create_registered_model(
    req: CreateRegisteredModel = Depends(parsed(CreateRegisteredModel)),
    reg: Registry = Depends(registry),
) -> Response:
    name = required(req.name, "name")
    tags = {t.key: t.value for t in req.tags}
    try:
        model = reg.create_registered_model(name, description=req.description, tags=tags)
    except AlreadyExists as exc:
        raise RegistryAlreadyExists(exc.message) from None
    return ok({"registered_model": registered_model_json(model, [])})


@router.get(_MODELS + "/get")
def get_registered_model(
    req: Name = Depends(parsed(Name)), reg: Registry = Depends(registry)
) -> Response:
    return _model(reg, required(req.name, "name"))


@router.post(_MODELS + "/rename")
def rename_registered_model(
    req: RenameRegisteredModel = Depends(parsed(RenameRegisteredModel)),
    reg: Registry = Depends(registry),
) -> Response:
    name, new_name = required(req.name, "name"), required(req.new_name, "new_name")
    try:
        reg.rename_registered_model(name, new_name)
    except AlreadyExists as exc:
        raise RegistryAlreadyExists(exc.message) from None
    return _model(reg, new_name)


@router.patch(_MODELS + "/update")
def update_registered_model(
    req: UpdateRegisteredModel = Depends(parsed(UpdateRegisteredModel)),
    reg: Registry = Depends(registry),
) -> Response:
    name = required(req.name, "name")
    reg.update_registered_model(name, req.description)
    return _model(reg, name)


@router.delete(_MODELS + "/delete")
def delete_registered_model(
    req: Name = Depends(parsed(Name)), reg: Registry = Depends(registry)
) -> Response:
    reg.delete_registered_model(required(req.name, "name"))
    return ok()


@router.get(_MODELS + "/search")
def search_registered_models(
    req: Search = Depends(parsed(Search)), reg: Registry = Depends(registry)
) -> Response:
    page = reg.search_registered_models(
        filter_string=model_filter(req.filter),
        order_by=req.order_by or None,
        max_results=100 if req.max_results is None else req.max_results,
        page_token=req.page_token or None,
    )
    body: dict[str, object] = {
        "registered_models": [
            registered_model_json(m, reg.get_latest_versions(m.name)) for m in page
        ]
    }
    if page.token:
        body["next_page_token"] = page.token
    return ok(body)


@router.api_route(_MODELS + "/get-latest-versions", methods=["GET", "POST"])
def get_latest_versions(
    req: GetLatestVersions = Depends(parsed(GetLatestVersions)),
    reg: Registry = Depends(registry),
) -> Response:
    name = required(req.name, "name")
    versions = reg.get_latest_versions(name, canonical_stages(req.stages))
    return ok({"model_versions": [model_version_json(v) for v in versions]})


@router.post(_MODELS + "/set-tag")
def set_registered_model_tag(
    req: ModelTag = Depends(parsed(ModelTag)), reg: Registry = Depends(registry)
) -> Response:
    reg.set_registered_model_tag(required(req.name, "name"), required(req.key, "key"), req.value)
    return ok()


@router.delete(_MODELS + "/delete-tag")
def delete_registered_model_tag(
    req: ModelTag = Depends(parsed(ModelTag)), reg: Registry = Depends(registry)
) -> Response:
    reg.delete_registered_model_tag(required(req.name, "name"), required(req.key, "key"))
    return ok()


# -- aliases -----------------------------------------------------------------------------


@router.post(_MODELS + "/alias")
def set_registered_model_alias(
    req: Alias = Depends(parsed(Alias)), reg: Registry = Depends(registry)
) -> Response:
    name, alias = required(req.name, "name"), required(req.alias, "alias")
    reg.set_alias(name, alias, version_number(req.version))
    return ok()


@router.delete(_MODELS + "/alias")
def delete_registered_model_alias(
    req: Alias = Depends(parsed(Alias)), reg: Registry = Depends(registry)
) -> Response:
    reg.delete_alias(required(req.name, "name"), required(req.alias, "alias"))
    return ok()


@router.get(_MODELS + "/alias")
def get_model_version_by_alias(
    req: Alias = Depends(parsed(Alias)), reg: Registry = Depends(registry)
) -> Response:
    name, alias = required(req.name, "name"), required(req.alias, "alias")
    return ok({"model_version": model_version_json(reg.get_model_version_by_alias(name, alias))})


# -- model versions ----------------------------------------------------------------------


@router.post(_VERSIONS + "/create")
def create_model_version(
    req: CreateModelVersion = Depends(parsed(CreateModelVersion)),
    client: Client = Depends(service),
    reg: Registry = Depends(registry),
) -> Response:
    name = required(req.name, "name")
    reg.get_registered_model(name)  # as in MLflow: the registered model must exist already
    found = version_source(client, reg, req.source, req.run_id, req.model_id)
    version = reg.create_model_version(
        name,
        found.source,
        run_id=found.run_id,
        description=req.description,
        tags={t.key: t.value for t in req.tags},
        model_id=found.model_id,
        files_source=found.files_source,
    )
    return ok({"model_version": model_version_json(version)})


@router.get(_VERSIONS + "/get")
def get_model_version(
    req: VersionRef = Depends(parsed(VersionRef)), reg: Registry = Depends(registry)
) -> Response:
    return ok({"model_version": model_version_json(reg.get_model_version(*_version(req)))})


@router.patch(_VERSIONS + "/update")
def update_model_version(
    req: UpdateModelVersion = Depends(parsed(UpdateModelVersion)),
    reg: Registry = Depends(registry),
) -> Response:
    name, number = _version(req)
    version = reg.update_model_version(name, number, req.description)
    return ok({"model_version": model_version_json(version)})


@router.post(_VERSIONS + "/transition-stage")
def transition_model_version_stage(
    req: TransitionStage = Depends(parsed(TransitionStage)),
    reg: Registry = Depends(registry),
) -> Response:
    name, number = _version(req)
    stage = canonical_stage(required(req.stage, "stage"))
    version = reg.transition_stage(name, number, stage, req.archive_existing_versions)
    return ok({"model_version": model_version_json(version)})


@router.delete(_VERSIONS + "/delete")
def delete_model_version(
    req: VersionRef = Depends(parsed(VersionRef)), reg: Registry = Depends(registry)
) -> Response:
    reg.delete_model_version(*_version(req))
    return ok()


@router.get(_VERSIONS + "/search")
def search_model_versions(
    req: Search = Depends(parsed(Search)), reg: Registry = Depends(registry)
) -> Response:
    page = reg.search_model_versions(
        filter_string=req.filter or None,
        order_by=req.order_by or None,
        max_results=1000 if req.max_results is None else req.max_results,
        page_token=req.page_token or None,
    )
    body: dict[str, object] = {"model_versions": [model_version_json(v) for v in page]}
    if page.token:
        body["next_page_token"] = page.token
    return ok(body)


@router.get(_VERSIONS + "/get-download-uri")
def get_model_version_download_uri(
    req: VersionRef = Depends(parsed(VersionRef)), reg: Registry = Depends(registry)
) -> Response:
    version = reg.get_model_version(*_version(req))
    return ok({"artifact_uri": download_uri(version.name, version.version)})


@router.post(_VERSIONS + "/set-tag")
def set_model_version_tag(
    req: VersionTag = Depends(parsed(VersionTag)), reg: Registry = Depends(registry)
) -> Response:
    name, number = _version(req)
    reg.set_model_version_tag(name, number, required(req.key, "key"), req.value)
    return ok()


@router.delete(_VERSIONS + "/delete-tag")
def delete_model_version_tag(
    req: VersionTag = Depends(parsed(VersionTag)), reg: Registry = Depends(registry)
) -> Response:
    name, number = _version(req)
    reg.delete_model_version_tag(name, number, required(req.key, "key"))
    return ok()
