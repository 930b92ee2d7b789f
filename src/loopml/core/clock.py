"""Time in the unit MLflow uses everywhere: integer milliseconds since the epoch."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000
