"""``/api/v1/runs``: create, read, update, end, delete, restore, log, search, inputs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from loopml.server._deps import service
from loopml.server.native import _schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.tracking import Client

router = APIRouter(prefix="/runs", tags=["runs"], route_class=StrictJsonRoute)


@router.post("", response_model=s.RunOut, summary="Start a run")
def create_run(body: s.CreateRun, client: Client = Depends(service)) -> s.RunOut:
    run = client.create_run(
        body.experiment_id,
        start_time=body.start_time,
        tags=body.tags,
        run_name=body.run_name,
        parent_run_id=body.parent_run_id,
        user_id=body.user_id,
    )
    return s.RunOut(run=run)


@router.post("/search", response_model=s.RunsPage, summary="Search runs with MLflow's filters")
def search_runs(body: s.SearchRuns, client: Client = Depends(service)) -> s.RunsPage:
    page = client.search_runs(
        body.experiment_ids,
        body.filter,
        body.view_type,
        body.max_results,
        body.order_by,
        body.page_token,
    )
    return s.RunsPage(runs=page, next_page_token=page.token)


@router.get("/{run_id}", response_model=s.RunOut, summary="Get a run with its latest values")
def get_run(run_id: str, client: Client = Depends(service)) -> s.RunOut:
    return s.RunOut(run=client.get_run(run_id))


@router.patch("/{run_id}", response_model=s.RunInfoOut, summary="Change a run's status or name")
def update_run(run_id: str, body: s.UpdateRun, client: Client = Depends(service)) -> s.RunInfoOut:
    info = client.update_run(run_id, status=body.status, name=body.run_name, end_time=body.end_time)
    return s.RunInfoOut(run_info=info)


@router.post("/{run_id}/terminate", response_model=s.RunInfoOut, summary="End a run")
def terminate_run(
    run_id: str, body: s.TerminateRun, client: Client = Depends(service)
) -> s.RunInfoOut:
    return s.RunInfoOut(run_info=client.set_terminated(run_id, body.status, body.end_time))


@router.delete("/{run_id}", response_model=s.Empty, summary="Delete a run (soft)")
def delete_run(run_id: str, client: Client = Depends(service)) -> s.Empty:
    client.delete_run(run_id)
    return s.Empty()


@router.post("/{run_id}/restore", response_model=s.Empty, summary="Restore a deleted run")
def restore_run(run_id: str, client: Client = Depends(service)) -> s.Empty:
    client.restore_run(run_id)
    return s.Empty()


@router.post(
    "/{run_id}/batch",
    response_model=s.Empty,
    summary="Log metrics, params and tags in one write",
    description="All items are written, or (on any bad item) none. With a `batch_id` a "
    "replayed batch is stored once.",
)
def log_batch(
    run_id: str, body: s.LogBatch, request: Request, client: Client = Depends(service)
) -> s.Empty:
    client.log_batch(run_id, body.metrics, body.params, body.tags, batch_id=body.batch_id)
    request.app.state.metrics.metrics_ingested.inc(len(body.metrics))
    return s.Empty()


@router.delete("/{run_id}/tags/{key:path}", response_model=s.Empty, summary="Delete a run tag")
def delete_tag(run_id: str, key: str, client: Client = Depends(service)) -> s.Empty:
    client.delete_tag(run_id, key)
    return s.Empty()


@router.get(
    "/{run_id}/metrics/{key:path}",
    response_model=s.MetricHistory,
    summary="Every point of one metric, by step then timestamp",
)
def get_metric_history(run_id: str, key: str, client: Client = Depends(service)) -> s.MetricHistory:
    return s.MetricHistory(metrics=client.get_metric_history(run_id, key))


@router.post("/{run_id}/inputs", response_model=s.Empty, summary="Record datasets a run read")
def log_inputs(run_id: str, body: s.LogInputs, client: Client = Depends(service)) -> s.Empty:
    client.log_inputs(run_id, body.datasets)
    return s.Empty()
