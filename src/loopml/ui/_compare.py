"""Compare 2 to 500 runs: a side-by-side table (optionally only what differs), overlaid
metric charts by step or time with smoothing, parallel coordinates and a scatter.

The page itself costs one run search; each metric chart loads its series from
``/ui/api/compare/metrics/{key}`` when it scrolls into view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from loopml.core.errors import InvalidArgument
from loopml.core.ids import is_run_id
from loopml.server._deps import service
from loopml.store import SEARCH_MAX_RESULTS, Run, ViewType
from loopml.tracking import Client
from loopml.ui._downsample import downsample
from loopml.ui._render import render
from loopml.ui._route import PageRoute

router = APIRouter(route_class=PageRoute)
api_router = APIRouter()

MIN_RUNS, MAX_RUNS = 2, 500
POINTS_PER_CHART = 200_000  # split across the runs of one chart, 100 to 2,000 per run


def _run_ids(runs: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(r.strip() for r in runs if r.strip()))
    bad = [r for r in ids if not is_run_id(r)]
    if bad:
        raise InvalidArgument(f"Not a run id: {bad[0]!r} (32 hex characters).")
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        raise InvalidArgument(f"Select {MIN_RUNS} to {MAX_RUNS} runs to compare; got {len(ids)}.")
    return ids


def fetch_runs(client: Client, ids: Sequence[str]) -> list[Run]:
    """The runs named by ``ids`` in that order, with one search over every experiment."""
    experiments = client.search_experiments(ViewType.ALL, SEARCH_MAX_RESULTS)
    quoted = ", ".join(f"'{i}'" for i in ids)  # ids are checked hex: nothing to escape
    found = client.search_runs(
        [e.experiment_id for e in experiments],
        f"attributes.run_id IN ({quoted})",
        ViewType.ALL,
        max_results=len(ids),
    )
    by_id = {run.info.run_id: run for run in found}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise InvalidArgument(f"No run with id {missing[0]!r}.")
    return [by_id[i] for i in ids]


def _as_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compare_rows(runs: Sequence[Run], only_differences: bool) -> list[dict[str, Any]]:
    """Table rows (section, key, one value per run, whether they differ)."""
    rows: list[dict[str, Any]] = []
    sections: list[tuple[str, list[dict[str, Any]]]] = [
        ("attributes", [_attributes(run) for run in runs]),
        ("params", [run.data.params for run in runs]),
        ("metrics", [run.data.metrics for run in runs]),
        ("tags", [_user_tags(run) for run in runs]),
    ]
    for section, values in sections:
        keys = (
            sorted({k for v in values for k in v}) if section != "attributes" else list(values[0])
        )
        for key in keys:
            cells = [v.get(key) for v in values]
            differs = len({repr(c) for c in cells}) > 1
            if differs or not only_differences:
                rows.append({"section": section, "key": key, "cells": cells, "differs": differs})
    return rows


def _attributes(run: Run) -> dict[str, Any]:
    return {
        "status": run.info.status,
        "user": run.info.user_id,
        "experiment": run.info.experiment_id,
    }


def _user_tags(run: Run) -> dict[str, str]:
    return {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}


def plot_data(runs: Sequence[Run]) -> dict[str, Any]:
    """What the parallel-coordinates and scatter charts draw: numeric columns per run."""
    params = sorted({k for run in runs for k in run.data.params})
    metrics = sorted({k for run in runs for k in run.data.metrics})
    columns: list[dict[str, Any]] = []
    for key in params:
        texts = [run.data.params.get(key) for run in runs]
        numbers = [_as_number(v) for v in texts]
        numeric = all(n is not None for n, v in zip(numbers, texts, strict=True) if v is not None)
        shown: list[Any] = numbers if numeric else texts
        columns.append({"name": f"params.{key}", "numeric": numeric, "values": shown})
    for key in metrics:
        latest = [_as_number(run.data.metrics.get(key)) for run in runs]
        columns.append({"name": f"metrics.{key}", "numeric": True, "values": latest})
    return {
        "runs": [{"id": run.info.run_id, "name": run.info.run_name} for run in runs],
        "columns": columns,
    }


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    runs: list[str] = Query([], description="2 to 500 run ids"),
    diff: bool = Query(False, description="Only the rows whose values differ"),
    metric: str = Query("", max_length=500, description="Colours the parallel coordinates"),
    x: str = Query("", max_length=500),
    y: str = Query("", max_length=500),
    axis: str = Query("step", pattern="^(step|time)$"),
    smooth: float = Query(0.0, ge=0.0, le=0.99),
    client: Client = Depends(service),
) -> HTMLResponse:
    ids = _run_ids(runs)
    found = fetch_runs(client, ids)
    metric_keys = sorted({k for run in found for k in run.data.metrics})
    data = plot_data(found)
    names = [c["name"] for c in data["columns"]]
    numeric = [c["name"] for c in data["columns"] if c["numeric"]]
    chosen_metric = (
        metric if f"metrics.{metric}" in names else (metric_keys[0] if metric_keys else "")
    )
    return render(
        request,
        "compare.html",
        runs=found,
        rows=compare_rows(found, diff),
        diff=diff,
        metric_keys=metric_keys,
        metric=chosen_metric,
        columns=numeric,
        x=x if x in numeric else (numeric[0] if numeric else ""),
        y=y if y in numeric else (numeric[1] if len(numeric) > 1 else ""),
        axis=axis,
        smooth=smooth,
        plot=data,
    )


@api_router.get("/ui/api/compare/metrics/{key:path}")
def compare_metric(
    key: str,
    runs: list[str] = Query([]),
    client: Client = Depends(service),
) -> JSONResponse:
    """One metric's history for each run, thinned so the chart holds ~200,000 points."""
    ids = _run_ids(runs)
    limit = max(100, min(2000, POINTS_PER_CHART // len(ids)))
    series = []
    for run_id in ids:
        points = client.get_metric_columns(run_id, key)
        series.append({"run_id": run_id, **downsample(points, limit).to_json()})
    return JSONResponse({"key": key, "series": series})
