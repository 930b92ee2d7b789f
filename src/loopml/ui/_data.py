"""Data pages: registered datasets, their versions, and a version's schema and profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from loopml.datasets import ColumnProfile, Datasets, DatasetVersion
from loopml.ui import _format  # noqa: F401 - the templates' filters
from loopml.ui._echarts import bar_chart
from loopml.ui._render import render
from loopml.ui._route import PageRoute
from loopml.ui._services import datasets

router = APIRouter(route_class=PageRoute)


@router.get("/data", response_class=HTMLResponse)
def datasets_page(request: Request, service: Datasets = Depends(datasets)) -> HTMLResponse:
    """Every registered dataset with its newest version."""
    return render(request, "datasets.html", active="Data", datasets=service.list())


@router.get("/data/{name}", response_class=HTMLResponse)
def dataset_page(
    request: Request, name: str, service: Datasets = Depends(datasets)
) -> HTMLResponse:
    """A dataset's versions, newest first."""
    versions = service.versions(name)
    return render(request, "dataset.html", active="Data", name=name, versions=versions)


@router.get("/data/{name}/{version}", response_class=HTMLResponse)
def dataset_version_page(
    request: Request, name: str, version: str, service: Datasets = Depends(datasets)
) -> HTMLResponse:
    """One version: where it came from, its schema and per-column profile."""
    found = service.latest(name) if version == "latest" else service.get(name, version)
    return render(
        request,
        "dataset_version.html",
        active="Data",
        v=found,
        columns=profile_rows(found),
        chart=nulls_chart(found),
    )


@dataclass(frozen=True)
class ColumnRow:
    """A schema column and, when the version was profiled, its figures."""

    name: str
    type: str
    profile: ColumnProfile | None

    @property
    def null_share(self) -> float | None:
        """Missing values as a share of all values (None without a profile)."""
        p = self.profile
        if p is None or not p.count + p.nulls:
            return None
        return p.nulls / (p.count + p.nulls)


def profile_rows(version: DatasetVersion) -> list[ColumnRow]:
    """One row per schema column, in schema order."""
    profiles = {p.name: p for p in version.profile or ()}
    return [ColumnRow(c, t, profiles.get(c)) for c, t in (version.schema or {}).items()]


def nulls_chart(version: DatasetVersion) -> dict[str, Any] | None:
    """Bars of the missing share per column; None when no column misses a value."""
    rows = [(r.name, r.null_share) for r in profile_rows(version) if r.null_share is not None]
    if not any(share for _, share in rows):
        return None  # nothing missing: the table says so, a chart of zeros would not help
    shares: list[float | None] = [100.0 * share for _, share in rows]
    return bar_chart("Missing values per column", "%", [name for name, _ in rows], shares)
