"""A run's page: params, tags, metrics with charts, evaluation, artifacts with previews, lineage.

Charts load their points from ``/ui/api/runs/{id}/metrics/{key}``: at most 2,000 per
series (min and max of each bucket), and the exact points of a zoomed step range.
"""

from __future__ import annotations

import posixpath
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from loopml.core.errors import NotFound
from loopml.registry import Registry
from loopml.server._deps import registry, service
from loopml.store import Run
from loopml.tracking import Client
from loopml.ui._artifact_view import artifact_headers, check_path, kind_of, media_type, preview
from loopml.ui._downsample import MAX_POINTS, downsample, in_range
from loopml.ui._evaluation_view import load_evaluation
from loopml.ui._render import render
from loopml.ui._route import PageRoute

router = APIRouter(route_class=PageRoute)
api_router = APIRouter()  # JSON for the charts: errors stay JSON (the app's handlers)

CHILDREN_SHOWN = 100
# Tags that describe where the code and environment came from (shown in their own section).
PROVENANCE_PREFIXES = ("mlflow.source.", "mlflow.gitRepoURL", "loopml.env.", "loopml.git.")
PARENT_TAG = "mlflow.parentRunId"


def _split_tags(run: Run) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(user tags, provenance tags, other system tags), each sorted by key."""
    user, provenance, system = {}, {}, {}
    for key in sorted(run.data.tags):
        value = run.data.tags[key]
        if key.startswith(PROVENANCE_PREFIXES):
            provenance[key] = value
        elif key.startswith("mlflow."):
            system[key] = value
        else:
            user[key] = value
    return user, provenance, system


def _parent(client: Client, run: Run) -> Run | None:
    if not run.info.parent_run_id:
        return None
    try:
        return client.get_run(run.info.parent_run_id)
    except NotFound:  # the parent was purged: the page still shows its id
        return None


def _logged_models(client: Client, run_id: str) -> list[str]:
    """Artifact folders holding a model (an ``MLmodel`` manifest)."""
    return sorted(
        {
            posixpath.dirname(e.path)
            for e in client.list_artifact_entries(run_id)
            if posixpath.basename(e.path) == "MLmodel"
        }
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    run_id: str,
    path: str = Query("", max_length=1000, description="The artifact folder shown"),
    file: str = Query("", max_length=1000, description="The artifact file previewed"),
    client: Client = Depends(service),
    models: Registry = Depends(registry),
) -> HTMLResponse:
    run = client.get_run(run_id)
    folder, chosen = check_path(path), check_path(file)
    listing = client.list_artifacts(run_id, folder or None)
    shown = None
    if chosen:
        entry, reader = client.open_artifact(run_id, chosen)
        with reader:
            shown = preview(chosen, entry.size, reader)
    artifacts: dict[str, Any] = {"run": run, "folder": folder, "listing": listing, "shown": shown}
    if request.headers.get("hx-target") == "artifacts":  # a click in the artifact browser
        return render(request, "run.html", block="artifacts", **artifacts)
    experiment = client.get_experiment(run.info.experiment_id)
    children = client.search_runs(
        [run.info.experiment_id],
        f"tags.`{PARENT_TAG}` = '{run.info.run_id}'",
        max_results=CHILDREN_SHOWN,
        order_by=["attributes.start_time ASC"],
    )
    versions = list(models.search_model_versions(f"run_id = '{run.info.run_id}'", max_results=50))
    user_tags, provenance, system_tags = _split_tags(run)
    return render(
        request,
        "run.html",
        experiment=experiment,
        parent=_parent(client, run),
        children=children,
        more_children=children.token is not None,
        logged_models=_logged_models(client, run_id),
        versions=versions,
        user_tags=user_tags,
        provenance=provenance,
        system_tags=system_tags,
        metric_keys=sorted(run.data.metrics),
        evaluation=load_evaluation(client, run_id),
        **artifacts,
    )


@router.get("/ui/runs/{run_id}/artifact")
def artifact_file(
    run_id: str,
    path: str = Query(..., min_length=1, max_length=1000),
    inline: bool = Query(False, description="Shown in the page (images, framed HTML)"),
    client: Client = Depends(service),
) -> StreamingResponse:
    """One artifact's bytes, never sniffed, never run as part of the UI's origin."""
    target = check_path(path)
    entry, reader = client.open_artifact(run_id, target)
    show_inline = inline and kind_of(target) in ("image", "html", "text", "json", "csv")

    def chunks() -> object:
        with reader:
            while block := reader.read(1 << 16):
                yield block

    return StreamingResponse(
        chunks(),  # type: ignore[arg-type]
        media_type=media_type(target) if show_inline else "application/octet-stream",
        headers={**artifact_headers(target, show_inline), "Content-Length": str(entry.size)},
    )


@api_router.get("/ui/api/runs/{run_id}/metrics/{key:path}")
def metric_points(
    run_id: str,
    key: str,
    min_step: int | None = Query(None),
    max_step: int | None = Query(None),
    client: Client = Depends(service),
) -> JSONResponse:
    """A metric's points for a chart: thinned to 2,000 (min/max per bucket); exact when a
    zoomed step range holds no more than that."""
    points = in_range(client.get_metric_columns(run_id, key), min_step, max_step)
    series = downsample(points, MAX_POINTS)
    return JSONResponse({"key": key, "run_id": run_id, **series.to_json()})
