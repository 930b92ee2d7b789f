"""MLflow's run endpoints: ``/api/2.0/mlflow/runs/...`` and ``/metrics/get-history``."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from loopml.server._deps import service
from loopml.server.mlflow._convert import (
    MODEL_INPUT_TAG,
    MODEL_OUTPUT_TAG,
    DatasetInputMessage,
    metric_json,
    run_info_json,
    run_json,
)
from loopml.server.mlflow._model_runs import NOT_A_MODEL, check_user_tags, get_model_run
from loopml.server.mlflow._wire import (
    Double,
    Int64,
    KeyValue,
    Message,
    enum_name,
    ok,
    page_of,
    parsed,
    required,
)
from loopml.store import Metric, Param, RunStatus, RunTag, ViewType, parse_filter
from loopml.tracking import Client

router = APIRouter(prefix="/api/2.0/mlflow", include_in_schema=False)


class RunId(Message):
    run_id: str = ""
    run_uuid: str = ""

    def id(self) -> str:
        return required(self.run_id or self.run_uuid, "run_id")


class CreateRun(Message):
    experiment_id: str = "0"
    user_id: str = ""
    run_name: str = ""
    start_time: Int64 | None = None
    tags: list[KeyValue] = []


class UpdateRun(RunId):
    status: str | int | None = None
    end_time: Int64 | None = None
    run_name: str = ""


class MetricMessage(Message):
    key: str
    value: Double
    timestamp: Int64
    step: Int64 = 0


class LogMetric(RunId, MetricMessage):
    pass


class LogParam(RunId):
    key: str = ""
    value: str = ""


class SetTag(RunId):
    key: str = ""
    value: str = ""


class DeleteTag(RunId):
    key: str = ""


class LogBatch(RunId):
    metrics: list[MetricMessage] = []
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class SearchRuns(Message):
    experiment_ids: list[str] = []
    filter: str = ""
    run_view_type: str | int | None = None
    max_results: Int64 = 1000
    order_by: list[str] = []
    page_token: str = ""


class GetMetricHistory(RunId):
    metric_key: str = ""
    page_token: str = ""
    max_results: Int64 | None = None


class ModelRef(Message):
    model_id: str = ""
    step: Int64 = 0


class LogInputs(RunId):
    datasets: list[DatasetInputMessage] = []
    models: list[ModelRef] = []


class LogOutputs(RunId):
    models: list[ModelRef] = []


def _metric(m: MetricMessage) -> Metric:
    return Metric(m.key, m.value, m.timestamp, m.step)


@router.post("/runs/create")
def create_run(
    req: CreateRun = Depends(parsed(CreateRun)), client: Client = Depends(service)
) -> Response:
    tags = {t.key: t.value for t in req.tags}
    check_user_tags(list(tags))
    run = client.create_run(
        req.experiment_id or "0",
        start_time=req.start_time,
        tags=tags,
        run_name=req.run_name or None,
        parent_run_id=tags.get("mlflow.parentRunId") or None,
    )
    return ok({"run": run_json(run)})


@router.post("/runs/update")
def update_run(
    req: UpdateRun = Depends(parsed(UpdateRun)), client: Client = Depends(service)
) -> Response:
    run_id = req.id()
    status = enum_name("RunStatus", req.status, "status")
    if req.run_name:
        # The rename comes first: it validates the name before anything changes.
        client.update_run(run_id, name=req.run_name)
    if status is not None and RunStatus(status).is_terminated:
        client.set_terminated(run_id, status, req.end_time or None)
    elif status is not None:
        client.update_run(run_id, status=status)
    info = client.get_run(run_id).info
    return ok({"run_info": run_info_json(info)})


@router.post("/runs/delete")
def delete_run(req: RunId = Depends(parsed(RunId)), client: Client = Depends(service)) -> Response:
    client.delete_run(req.id())
    return ok()


@router.post("/runs/restore")
def restore_run(req: RunId = Depends(parsed(RunId)), client: Client = Depends(service)) -> Response:
    client.restore_run(req.id())
    return ok()


@router.get("/runs/get")
def get_run(req: RunId = Depends(parsed(RunId)), client: Client = Depends(service)) -> Response:
    return ok({"run": run_json(client.get_run(req.id()))})


@router.post("/runs/log-metric")
def log_metric(
    req: LogMetric = Depends(parsed(LogMetric)), client: Client = Depends(service)
) -> Response:
    client.log_batch(req.id(), metrics=[_metric(req)])
    return ok()


@router.post("/runs/log-parameter")
def log_param(
    req: LogParam = Depends(parsed(LogParam)), client: Client = Depends(service)
) -> Response:
    client.log_batch(req.id(), params=[Param(req.key, req.value)])
    return ok()


@router.post("/runs/set-tag")
def set_tag(req: SetTag = Depends(parsed(SetTag)), client: Client = Depends(service)) -> Response:
    check_user_tags([req.key])
    client.log_batch(req.id(), tags=[RunTag(req.key, req.value)])
    return ok()


@router.post("/runs/delete-tag")
def delete_tag(
    req: DeleteTag = Depends(parsed(DeleteTag)), client: Client = Depends(service)
) -> Response:
    client.delete_tag(req.id(), req.key)
    return ok()


@router.post("/runs/log-batch")
def log_batch(
    req: LogBatch = Depends(parsed(LogBatch)), client: Client = Depends(service)
) -> Response:
    check_user_tags([t.key for t in req.tags])
    client.log_batch(
        req.id(),
        metrics=[_metric(m) for m in req.metrics],
        params=[Param(p.key, p.value) for p in req.params],
        tags=[RunTag(t.key, t.value) for t in req.tags],
    )
    return ok()


@router.post("/runs/search")
def search_runs(
    req: SearchRuns = Depends(parsed(SearchRuns)), client: Client = Depends(service)
) -> Response:
    view = enum_name("ViewType", req.run_view_type, "run_view_type") or ViewType.ACTIVE_ONLY
    # Runs that hold MLflow logged models (see _model_runs) are not runs to MLflow. The
    # user's filter is parsed alone first, so an error message quotes only what they wrote.
    parse_filter(req.filter)
    where = f"{req.filter} AND {NOT_A_MODEL}" if req.filter.strip() else NOT_A_MODEL
    page = client.search_runs(
        req.experiment_ids,
        where,
        run_view_type=view,
        max_results=req.max_results,
        order_by=req.order_by,
        page_token=req.page_token or None,
    )
    body: dict[str, object] = {"runs": [run_json(r) for r in page]}
    if page.token:
        body["next_page_token"] = page.token
    return ok(body)


@router.get("/metrics/get-history")
def get_metric_history(
    req: GetMetricHistory = Depends(parsed(GetMetricHistory)), client: Client = Depends(service)
) -> Response:
    history = client.get_metric_history(req.id(), required(req.metric_key, "metric_key"))
    token = None
    if req.max_results is not None:
        history, token = page_of(history, req.max_results, req.page_token)
    body: dict[str, object] = {"metrics": [metric_json(m) for m in history]}
    if token:
        body["next_page_token"] = token
    return ok(body)


@router.post("/runs/log-inputs")
def log_inputs(
    req: LogInputs = Depends(parsed(LogInputs)), client: Client = Depends(service)
) -> Response:
    run_id = req.id()
    datasets = [d.to_record() for d in req.datasets]
    for dataset in datasets:
        required(dataset.name, "datasets.dataset.name")
        required(dataset.digest, "datasets.dataset.digest")
    for model in req.models:
        get_model_run(client, model.model_id)
    if datasets:
        client.log_inputs(run_id, datasets)
    if req.models:
        tags = [RunTag(MODEL_INPUT_TAG + m.model_id, "") for m in req.models]
        client.log_batch(run_id, tags=tags)
    return ok()


@router.post("/runs/outputs")
def log_outputs(
    req: LogOutputs = Depends(parsed(LogOutputs)), client: Client = Depends(service)
) -> Response:
    run_id = req.id()
    for model in req.models:
        get_model_run(client, model.model_id)
    tags = [RunTag(MODEL_OUTPUT_TAG + m.model_id, str(m.step)) for m in req.models]
    client.log_batch(run_id, tags=tags)
    return ok()
