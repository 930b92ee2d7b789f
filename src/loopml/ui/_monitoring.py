"""Monitoring pages: monitors and their drift over time, the latest report, alerts.

A monitor's results are one row per evaluated window; the page draws the
drift score of each column (``drift_score.<col>``) and the drifted share of
columns over the newest windows, lists the newest window's per-column tests,
links the full report the API renders (one offline HTML file), and lists the
alerts the monitor's rules fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from loopml.monitoring import Monitors, format_duration, redacted_rule
from loopml.store import Monitor, MonitorResult
from loopml.ui import _format  # noqa: F401 - the templates' filters
from loopml.ui._echarts import line, time_chart
from loopml.ui._render import render
from loopml.ui._route import PageRoute
from loopml.ui._services import monitors

router = APIRouter(route_class=PageRoute)

WINDOWS_SHOWN = 1000
ALERTS_SHOWN = 50
DRIFT_SCORE = "drift_score."
DRIFT_FLAG = "drift."
SERIES_SHOWN = 20  # columns drawn; the most often drifted first


@dataclass(frozen=True)
class MonitorRow:
    """A monitor as the list shows it, with its newest window's verdict."""

    monitor: Monitor
    window: str
    latest: MonitorResult | None


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, service: Monitors = Depends(monitors)) -> HTMLResponse:
    """Every monitor with its newest window, and the newest alerts of all of them."""
    rows = []
    for monitor in service.list():
        newest = service.results(monitor.name, limit=1)
        rows.append(MonitorRow(monitor, _window_text(monitor), newest[-1] if newest else None))
    return render(
        request,
        "monitoring.html",
        active="Monitoring",
        rows=rows,
        events=service.events(limit=ALERTS_SHOWN),
    )


def _window_text(monitor: Monitor) -> str:
    window = monitor.spec.get("window_ms")
    step = monitor.spec.get("step_ms")
    if not isinstance(window, int):
        return ""
    text = format_duration(window)
    if isinstance(step, int) and step != window:
        text += f" every {format_duration(step)}"
    return text


@router.get("/monitoring/{name}", response_class=HTMLResponse)
def monitor_page(
    request: Request, name: str, service: Monitors = Depends(monitors)
) -> HTMLResponse:
    """One monitor: drift per column over time, the newest window, the report, alerts."""
    monitor = service.get(name)
    results = service.results(monitor.name, limit=WINDOWS_SHOWN)
    newest = next((r for r in reversed(results) if r.status == "ok"), None)
    return render(
        request,
        "monitor.html",
        active="Monitoring",
        m=monitor,
        window=_window_text(monitor),
        results=results,
        newest=newest,
        columns=newest_columns(newest),
        charts=drift_charts(results),
        events=service.events(monitor=monitor.name, limit=ALERTS_SHOWN),
        rules=[redacted_rule(r) for r in service.rules(monitor.name)],
    )


def newest_columns(result: MonitorResult | None) -> list[dict[str, Any]]:
    """The per-column tests of a window's drift, drifted columns first."""
    if result is None or not isinstance(result.drift, dict):
        return []
    columns = result.drift.get("columns") or {}
    rows = [dict(c, column=name) for name, c in columns.items() if isinstance(c, dict)]
    return sorted(rows, key=lambda c: (not c.get("drifted"), c["column"]))


def drift_charts(results: list[MonitorResult]) -> dict[str, dict[str, Any]]:
    """ECharts options: drift score per column, and the drifted share, per window end."""
    if not any(r.drift for r in results):
        return {}
    xs = [r.window_end for r in results]
    names: dict[str, int] = {}
    for r in results:
        for key in r.metrics:
            if key.startswith(DRIFT_SCORE):
                column = key[len(DRIFT_SCORE) :]
                names[column] = names.get(column, 0) + int(bool(r.metrics.get(DRIFT_FLAG + column)))
    ordered = sorted(names, key=lambda c: (-names[c], c))[:SERIES_SHOWN]
    scores = [line(c, xs, [r.metrics.get(DRIFT_SCORE + c) for r in results]) for c in ordered]
    share = line("drifted share", xs, [r.metrics.get("drift_share") for r in results])
    threshold = next(
        (r.drift.get("drift_share") for r in reversed(results) if isinstance(r.drift, dict)), None
    )
    if isinstance(threshold, int | float):
        share["markLine"] = {
            "symbol": "none",
            "data": [{"yAxis": threshold, "name": "dataset drift"}],
            "lineStyle": {"type": "dashed"},
        }
    return {
        "scores": time_chart("Drift score per column", "score", scores),
        "share": time_chart("Share of drifted columns", "share", [share]),
    }
