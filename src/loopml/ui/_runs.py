"""The runs table of an experiment: server-side paging, sorting, filtering, chosen columns.

The first page costs one search of ``size`` runs: the store orders and cuts the runs
in SQL and loads params, metrics and tags of that page only. The column chooser offers
the keys found on the page shown (no scan of the whole experiment).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.core.errors import InvalidArgument
from loopml.server._deps import service
from loopml.store import Run, ViewType
from loopml.tracking import Client
from loopml.ui._columns import ATTRIBUTES, available_keys, chosen_columns, order_by
from loopml.ui._render import render
from loopml.ui._route import PageRoute

router = APIRouter(route_class=PageRoute)

PAGE_SIZES = (25, 50, 100, 250, 500)
VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}


@router.get("/experiments/{experiment_id}", response_class=HTMLResponse)
def runs_page(
    request: Request,
    experiment_id: str,
    filter: str = Query("", max_length=4000, description="The API's run filter language"),
    sort: str = Query("start_time", max_length=500),
    desc: bool = Query(True),
    page: str | None = Query(None, max_length=200, description="The store's page token"),
    size: int = Query(50, ge=1, le=PAGE_SIZES[-1]),
    col: list[str] | None = Query(None, description="Columns: metrics.<k>, params.<k>, tags.<k>"),
    view: str = Query("active", pattern="^(active|deleted|all)$"),
    client: Client = Depends(service),
) -> HTMLResponse:
    experiment = client.get_experiment(experiment_id)
    error = ""
    runs: list[Run] = []
    token: str | None = None
    try:
        found = client.search_runs(
            [experiment.experiment_id], filter, VIEWS[view], size, order_by(sort, desc), page
        )
        runs, token = list(found), found.token
    except InvalidArgument as exc:  # a typo in the filter: say so beside the filter box
        error = exc.message
    columns = chosen_columns(col, runs)
    return render(
        request,
        "runs.html",
        block="content",
        experiment=experiment,
        runs=runs,
        columns=columns,
        chosen={c.name for c in columns},
        keys=available_keys(runs),
        attributes=ATTRIBUTES,
        filter=filter,
        sort=sort,
        desc=desc,
        size=size,
        sizes=PAGE_SIZES,
        view=view,
        page=page,
        next_page=token,
        error=error,
    )
