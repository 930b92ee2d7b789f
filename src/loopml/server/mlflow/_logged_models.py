"""MLflow 3's logged-model endpoints: ``/api/2.0/mlflow/logged-models/...``.

How a logged model is stored (a marked loopml run) is described in ``_model_runs``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from loopml.server._deps import service
from loopml.server.mlflow._artifacts import children, safe_path
from loopml.server.mlflow._convert import file_info_json
from loopml.server.mlflow._model_runs import (
    check_user_tags,
    create_model_run,
    get_model_run,
    logged_model_json,
    model_artifact_uri,
    run_filter,
    run_order,
    set_model_status,
)
from loopml.server.mlflow._wire import (
    Int64,
    KeyValue,
    Message,
    enum_name,
    ok,
    parsed,
    required,
)
from loopml.store import Param, RunTag
from loopml.tracking import Client

router = APIRouter(prefix="/api/2.0/mlflow/logged-models", include_in_schema=False)


class CreateLoggedModel(Message):
    experiment_id: str = ""
    name: str = ""
    model_type: str = ""
    source_run_id: str = ""
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class FinalizeLoggedModel(Message):
    status: str | int | None = None


class Tags(Message):
    tags: list[KeyValue] = []


class Params(Message):
    params: list[KeyValue] = []


class OrderBy(Message):
    field_name: str = ""
    ascending: bool = True


class SearchLoggedModels(Message):
    experiment_ids: list[str] = []
    filter: str = ""
    max_results: Int64 = 100
    order_by: list[OrderBy] = []
    page_token: str = ""


class GetLoggedModel(Message):
    allow_deleted: bool = False


class ListModelArtifacts(Message):
    artifact_directory_path: str = ""


@router.post("")
def create_logged_model(
    req: CreateLoggedModel = Depends(parsed(CreateLoggedModel)), client: Client = Depends(service)
) -> Response:
    experiment_id = required(req.experiment_id, "experiment_id")
    tags = {t.key: t.value for t in req.tags}
    params = [Param(p.key, p.value) for p in req.params]
    run = create_model_run(
        client, experiment_id, req.name, req.source_run_id, req.model_type, tags, params
    )
    return ok({"model": logged_model_json(run)})


@router.post("/search")
def search_logged_models(
    req: SearchLoggedModels = Depends(parsed(SearchLoggedModels)),
    client: Client = Depends(service),
) -> Response:
    order = [run_order(o.field_name, o.ascending) for o in req.order_by]
    page = client.search_runs(
        req.experiment_ids,
        run_filter(req.filter),
        max_results=req.max_results,
        order_by=order or ["attributes.start_time DESC"],
        page_token=req.page_token or None,
    )
    body: dict[str, object] = {"models": [logged_model_json(r) for r in page]}
    if page.token:
        body["next_page_token"] = page.token
    return ok(body)


@router.get("/{model_id}")
def get_logged_model(
    model_id: str,
    req: GetLoggedModel = Depends(parsed(GetLoggedModel)),
    client: Client = Depends(service),
) -> Response:
    run = get_model_run(client, model_id, allow_deleted=req.allow_deleted)
    return ok({"model": logged_model_json(run)})


@router.patch("/{model_id}")
def finalize_logged_model(
    model_id: str,
    req: FinalizeLoggedModel = Depends(parsed(FinalizeLoggedModel)),
    client: Client = Depends(service),
) -> Response:
    status = enum_name("LoggedModelStatus", req.status, "status") or ""
    return ok({"model": logged_model_json(set_model_status(client, model_id, status))})


@router.delete("/{model_id}")
def delete_logged_model(model_id: str, client: Client = Depends(service)) -> Response:
    client.delete_run(get_model_run(client, model_id).info.run_id)
    return ok()


@router.patch("/{model_id}/tags")
def set_logged_model_tags(
    model_id: str, req: Tags = Depends(parsed(Tags)), client: Client = Depends(service)
) -> Response:
    check_user_tags([t.key for t in req.tags])
    run_id = get_model_run(client, model_id).info.run_id
    client.log_batch(run_id, tags=[RunTag(t.key, t.value) for t in req.tags])
    return ok({"model": logged_model_json(client.get_run(run_id))})


@router.delete("/{model_id}/tags/{tag_key:path}")
def delete_logged_model_tag(
    model_id: str, tag_key: str, client: Client = Depends(service)
) -> Response:
    check_user_tags([tag_key])
    client.delete_tag(get_model_run(client, model_id).info.run_id, tag_key)
    return ok()


@router.post("/{model_id}/params")
def log_logged_model_params(
    model_id: str, req: Params = Depends(parsed(Params)), client: Client = Depends(service)
) -> Response:
    run_id = get_model_run(client, model_id).info.run_id
    client.log_batch(run_id, params=[Param(p.key, p.value) for p in req.params])
    return ok()


@router.get("/{model_id}/artifacts/directories")
def list_logged_model_artifacts(
    model_id: str,
    req: ListModelArtifacts = Depends(parsed(ListModelArtifacts)),
    client: Client = Depends(service),
) -> Response:
    run = get_model_run(client, model_id)
    path = safe_path(req.artifact_directory_path)
    infos = children(client, run.info.run_id, path)
    return ok(
        {
            "root_uri": model_artifact_uri(run.info),
            "files": [file_info_json(i, i.path) for i in infos],
        }
    )
