"""ECharts options built on the server: plain data the page script hands to ``setOption``.

Pages embed an option with ``{{ option | json_script }}`` in a
``<script type="application/json">`` and mark the chart's element with
``data-echart`` (``static/js/echarts-pages.js`` draws it); nothing here is code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def line(name: str, xs: Sequence[int], ys: Sequence[float | None]) -> dict[str, Any]:
    """One line series of (time ms, value) points; None leaves a gap.

    Sparse series show their points, so a value between two gaps stays visible.
    """
    return {
        "name": name,
        "type": "line",
        "showSymbol": sum(y is not None for y in ys) < 60,
        "connectNulls": False,
        "data": [[x, y] for x, y in zip(xs, ys, strict=True)],
    }


def time_chart(title: str, unit: str, series: list[dict[str, Any]]) -> dict[str, Any]:
    """Lines over a time axis (values in ``unit``), a legend, a tooltip per time."""
    return {
        "animation": False,  # a refresh redraws at once; screenshots show the data
        "title": {"text": title, "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "right": 0, "type": "scroll"},
        "grid": {"left": 50, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "time"},
        "yAxis": {"type": "value", "name": unit},
        "series": series,
    }


def bar_chart(
    title: str, unit: str, labels: list[str], values: list[float | None]
) -> dict[str, Any]:
    """Horizontal bars, one per label (used for per-column figures)."""
    return {
        "animation": False,  # a refresh redraws at once; screenshots show the data
        "title": {"text": title, "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 120, "right": 24, "top": 32, "bottom": 24},
        "xAxis": {"type": "value", "name": unit},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [{"type": "bar", "data": values, "name": title}],
    }
