"""How the registry, deployment, monitoring and data pages write times, sizes and numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from loopml.ui._render import templates


def ms_time(value: int | float | None) -> str:
    """Epoch milliseconds as ``2026-11-26 01:23:45`` (UTC); "" for none."""
    if value is None:
        return ""
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def byte_size(value: int | None) -> str:
    """A byte count for people: ``1.5 MiB``."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"  # pragma: no cover - the loop always returns


def num(value: object) -> str:
    """A number to six significant digits; anything else as text; "" for none."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


templates.env.filters.update(ms_time=ms_time, byte_size=byte_size, num=num)
