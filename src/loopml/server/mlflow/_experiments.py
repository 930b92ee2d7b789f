"""MLflow's experiment endpoints: ``/api/2.0/mlflow/experiments/...``."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from loopml.core.errors import InvalidArgument, NotFound
from loopml.server._deps import service
from loopml.server.mlflow._convert import ARTIFACTS_SCHEME, experiment_json
from loopml.server.mlflow._wire import KeyValue, Message, enum_name, ok, parsed, required
from loopml.store import ViewType
from loopml.tracking import Client

router = APIRouter(prefix="/api/2.0/mlflow/experiments", include_in_schema=False)


class CreateExperiment(Message):
    name: str = ""
    artifact_location: str = ""
    tags: list[KeyValue] = []


class ExperimentId(Message):
    experiment_id: str = ""


class GetExperimentByName(Message):
    experiment_name: str = ""


class UpdateExperiment(Message):
    experiment_id: str = ""
    new_name: str = ""


class SetExperimentTag(Message):
    experiment_id: str = ""
    key: str = ""
    value: str = ""


class DeleteExperimentTag(Message):
    experiment_id: str = ""
    key: str = ""


_NEWEST_FIRST = ["creation_time DESC"]  # MLflow's default order


class SearchExperiments(Message):
    max_results: int = 1000
    page_token: str = ""
    filter: str = ""
    order_by: list[str] = []
    view_type: str | int | None = None


@router.post("/create")
def create_experiment(
    req: CreateExperiment = Depends(parsed(CreateExperiment)),
    client: Client = Depends(service),
) -> Response:
    if req.artifact_location and not req.artifact_location.startswith(ARTIFACTS_SCHEME):
        raise InvalidArgument(
            f"Invalid artifact_location {req.artifact_location!r}: loopml keeps every artifact "
            "in its own object store; leave artifact_location unset."
        )
    experiment_id = client.create_experiment(
        required(req.name, "name"), tags={t.key: t.value for t in req.tags}
    )
    return ok({"experiment_id": experiment_id})


@router.get("/get")
def get_experiment(
    req: ExperimentId = Depends(parsed(ExperimentId)), client: Client = Depends(service)
) -> Response:
    experiment = client.get_experiment(required(req.experiment_id, "experiment_id"))
    return ok({"experiment": experiment_json(experiment)})


@router.get("/get-by-name")
def get_experiment_by_name(
    req: GetExperimentByName = Depends(parsed(GetExperimentByName)),
    client: Client = Depends(service),
) -> Response:
    name = required(req.experiment_name, "experiment_name")
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        raise NotFound(f"Could not find experiment with name '{name}'")
    return ok({"experiment": experiment_json(experiment)})


@router.post("/search")
@router.get("/search")
def search(
    req: SearchExperiments = Depends(parsed(SearchExperiments)),
    client: Client = Depends(service),
) -> Response:
    view = ViewType(enum_name("ViewType", req.view_type, "view_type") or ViewType.ACTIVE_ONLY)
    page = client.search_experiments(
        view,
        req.max_results,
        req.page_token or None,
        req.filter or None,
        req.order_by or _NEWEST_FIRST,
    )
    body: dict[str, object] = {"experiments": [experiment_json(e) for e in page]}
    if page.token:
        body["next_page_token"] = page.token
    return ok(body)


@router.post("/update")
def update_experiment(
    req: UpdateExperiment = Depends(parsed(UpdateExperiment)),
    client: Client = Depends(service),
) -> Response:
    experiment_id = required(req.experiment_id, "experiment_id")
    client.rename_experiment(experiment_id, required(req.new_name, "new_name"))
    return ok()


@router.post("/delete")
def delete_experiment(
    req: ExperimentId = Depends(parsed(ExperimentId)), client: Client = Depends(service)
) -> Response:
    client.delete_experiment(required(req.experiment_id, "experiment_id"))
    return ok()


@router.post("/restore")
def restore_experiment(
    req: ExperimentId = Depends(parsed(ExperimentId)), client: Client = Depends(service)
) -> Response:
    client.restore_experiment(required(req.experiment_id, "experiment_id"))
    return ok()


@router.post("/set-experiment-tag")
def set_experiment_tag(
    req: SetExperimentTag = Depends(parsed(SetExperimentTag)),
    client: Client = Depends(service),
) -> Response:
    client.set_experiment_tag(required(req.experiment_id, "experiment_id"), req.key, req.value)
    return ok()


@router.post("/delete-experiment-tag")
def delete_experiment_tag(
    req: DeleteExperimentTag = Depends(parsed(DeleteExperimentTag)),
    client: Client = Depends(service),
) -> Response:
    experiment_id = required(req.experiment_id, "experiment_id")
    client.delete_experiment_tag(experiment_id, required(req.key, "key"))
    return ok()
