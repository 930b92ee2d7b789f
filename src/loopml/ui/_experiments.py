"""The experiments page: every experiment with its run count and last activity; search."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.server._deps import service
from loopml.store import ViewType
from loopml.tracking import Client
from loopml.ui._render import render
from loopml.ui._route import PageRoute

router = APIRouter(route_class=PageRoute)

PAGE_SIZE = 100


def name_filter(q: str) -> str | None:
    """MLflow's experiment filter for names containing ``q`` (any case), quotes escaped."""
    q = q.strip()
    return f"name ILIKE '%{q.replace(chr(39), chr(39) * 2)}%'" if q else None


@router.get("/experiments", response_class=HTMLResponse)
def experiments_page(
    request: Request,
    q: str = Query("", max_length=200, description="Part of an experiment name"),
    page: str | None = Query(None, description="The store's page token"),
    client: Client = Depends(service),
) -> HTMLResponse:
    found = client.search_experiments(
        ViewType.ACTIVE_ONLY, PAGE_SIZE, page, name_filter(q), ["last_update_time DESC"]
    )
    activity = client.store.run_activity([e.experiment_id for e in found])
    rows = []
    for experiment in found:
        runs = activity.get(experiment.experiment_id)
        last = max(experiment.last_update_time, (runs.last_time if runs else None) or 0)
        rows.append({"experiment": experiment, "runs": runs.run_count if runs else 0, "last": last})
    return render(request, "experiments.html", rows=rows, q=q, next_page=found.token)
