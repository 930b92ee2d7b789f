"""``/api/v1/experiments``: create, read, search, rename, delete, restore, tag."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from loopml.core.errors import NotFound
from loopml.server._deps import service
from loopml.server.native import _schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.store import ViewType
from loopml.tracking import Client

router = APIRouter(prefix="/experiments", tags=["experiments"], route_class=StrictJsonRoute)


@router.post("", response_model=s.ExperimentIdOut, summary="Create an experiment")
def create_experiment(
    body: s.CreateExperiment, client: Client = Depends(service)
) -> s.ExperimentIdOut:
    experiment_id = client.create_experiment(body.name, body.artifact_location, body.tags)
    return s.ExperimentIdOut(experiment_id=experiment_id)


@router.get("", response_model=s.ExperimentsPage, summary="List experiments, a page at a time")
def search_experiments(
    view_type: ViewType = Query(ViewType.ACTIVE_ONLY),
    max_results: int = Query(1000, ge=1, le=s.SEARCH_MAX_RESULTS),
    page_token: str | None = Query(None),
    filter: str | None = Query(None, description="MLflow's experiment filter, e.g. name LIKE 'a%'"),
    order_by: list[str] | None = Query(None, description="e.g. creation_time DESC"),
    client: Client = Depends(service),
) -> s.ExperimentsPage:
    page = client.search_experiments(view_type, max_results, page_token, filter, order_by)
    return s.ExperimentsPage(experiments=page, next_page_token=page.token)


@router.get("/by-name", response_model=s.ExperimentOut, summary="Find an experiment by name")
def get_experiment_by_name(
    name: str = Query(..., description="Active or deleted experiment name."),
    client: Client = Depends(service),
) -> s.ExperimentOut:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        raise NotFound(f"No experiment named {name!r}.")
    return s.ExperimentOut(experiment=experiment)


@router.get("/{experiment_id}", response_model=s.ExperimentOut, summary="Get an experiment")
def get_experiment(experiment_id: str, client: Client = Depends(service)) -> s.ExperimentOut:
    return s.ExperimentOut(experiment=client.get_experiment(experiment_id))


@router.patch("/{experiment_id}", response_model=s.Empty, summary="Rename an experiment")
def rename_experiment(
    experiment_id: str, body: s.RenameExperiment, client: Client = Depends(service)
) -> s.Empty:
    client.rename_experiment(experiment_id, body.name)
    return s.Empty()


@router.delete("/{experiment_id}", response_model=s.Empty, summary="Delete an experiment (soft)")
def delete_experiment(experiment_id: str, client: Client = Depends(service)) -> s.Empty:
    client.delete_experiment(experiment_id)
    return s.Empty()


@router.post("/{experiment_id}/restore", response_model=s.Empty, summary="Restore an experiment")
def restore_experiment(experiment_id: str, client: Client = Depends(service)) -> s.Empty:
    client.restore_experiment(experiment_id)
    return s.Empty()


@router.post("/{experiment_id}/tags", response_model=s.Empty, summary="Set an experiment tag")
def set_experiment_tag(
    experiment_id: str, body: s.SetTag, client: Client = Depends(service)
) -> s.Empty:
    client.set_experiment_tag(experiment_id, body.key, body.value)
    return s.Empty()


@router.delete(
    "/{experiment_id}/tags/{key:path}", response_model=s.Empty, summary="Delete an experiment tag"
)
def delete_experiment_tag(
    experiment_id: str, key: str, client: Client = Depends(service)
) -> s.Empty:
    client.delete_experiment_tag(experiment_id, key)
    return s.Empty()
