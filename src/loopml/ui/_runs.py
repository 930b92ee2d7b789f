"""The runs table of an experiment: server-side paging, sorting, filtering, chosen columns.

The first page costs one search of ``size`` runs: the store orders and cuts the runs
in SQL and loads params, metrics and tags of that page only. The page state lives in
the URL (``page`` is the store's page token, an offset): "previous" is the token of
the offset one page back, so every page has a link to share and the back button works.

The column chooser offers every key of the experiment; it is a separate request
(``/experiments/{id}/columns``) sent when the chooser opens, so the table's first
render never waits for the key listing.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.core.errors import InvalidArgument
from loopml.server._deps import service
from loopml.store import Run, ViewType, decode_token, encode_token
from loopml.tracking import Client
from loopml.ui._columns import ATTRIBUTES, Column, chooser_keys, chosen_columns, order_by
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
    offset = decode_token(page)
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
        attributes=ATTRIBUTES,
        filter=filter,
        sort=sort,
        desc=desc,
        size=size,
        sizes=PAGE_SIZES,
        view=view,
        page=page,
        next_page=token,
        previous_page=_previous(offset, size),
        columns_url=_columns_url(request, experiment.experiment_id, columns),
        first=offset + 1,
        last=offset + len(runs),
        page_number=offset // size + 1,
        error=error,
    )


def _columns_url(request: Request, experiment_id: str, columns: list[Column]) -> str:
    """The chooser's URL: this page's query with the columns shown now named."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "col" and v]
    shown = [("col", c.name) for c in columns]
    return f"/experiments/{quote(experiment_id, safe='')}/columns?{urlencode(kept + shown)}"


def _previous(offset: int, size: int) -> str | None:
    """The token of the page before ``offset`` ("" for the first page, None on it)."""
    if offset <= 0:
        return None
    back = max(0, offset - size)
    return encode_token(back) if back else ""


@router.get("/experiments/{experiment_id}/columns", response_class=HTMLResponse)
def columns_chooser(
    request: Request,
    experiment_id: str,
    col: list[str] | None = Query(None, description="The columns shown now"),
    view: str = Query("active", pattern="^(active|deleted|all)$"),
    client: Client = Depends(service),
) -> HTMLResponse:
    """The chooser's key list: every metric, param and tag key of the experiment.

    Read from the key indexes alone (``Client.run_keys``), never from the runs' rows;
    the columns shown now stay checked even when no run of this view has them.
    """
    experiment = client.get_experiment(experiment_id)
    columns = chosen_columns(col, [])
    keys = chooser_keys(client.run_keys([experiment.experiment_id], VIEWS[view]), columns)
    return render(
        request,
        "runs_columns.html",
        experiment=experiment,
        keys=keys,
        chosen={c.name for c in columns},
        total=sum(len(k) for k in keys.values()),
    )
