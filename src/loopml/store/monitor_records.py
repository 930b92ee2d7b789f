"""Frozen records of monitors, their window results, alert rules and alert events.

A ``Monitor`` watches one deployment's prediction log in time windows; its
``spec`` (window size and step, reference data, task, drift options) is
interpreted by ``loopml.monitoring``, the store only keeps it. A
``MonitorResult`` is one evaluated window: flat metrics (the time series that
``/metrics``, reports and alert rules read) and the per-column drift detail.
An ``AlertRule`` is a condition on a monitor's metrics with a cooldown and
destinations; an ``AlertEvent`` is one firing, with how each delivery went.
Times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Monitor:
    """A monitor of a deployment; ``last_window_end`` is how far it has computed."""

    name: str
    deployment: str
    spec: dict[str, Any]
    start_time: int
    last_window_end: int | None
    created_time: int
    updated_time: int


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """One evaluated window ``[window_start, window_end)`` of a monitor.

    ``status`` is "ok", "empty" (no logged rows) or "error" (``detail`` says
    why). ``reference`` names the data the window was compared with.
    """

    monitor: str
    window_start: int
    window_end: int
    status: str
    detail: str
    metrics: dict[str, float | None]
    drift: dict[str, Any] | None
    reference: str
    created_time: int


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A condition on a monitor's window metrics, and where to send a firing.

    ``destinations`` are stored whole (a webhook's HMAC secret included, since
    signing needs it); interfaces show them redacted.
    """

    name: str
    monitor: str
    condition: str
    cooldown_ms: int
    destinations: tuple[dict[str, Any], ...]
    enabled: bool
    last_fired_window_end: int | None
    created_time: int
    updated_time: int


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One firing of a rule on one window; ``deliveries`` say how sending went."""

    id: int
    rule: str
    monitor: str
    deployment: str
    metric: str
    value: float | None
    condition: str
    window_start: int
    window_end: int
    time: int
    message: str
    deliveries: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """The event as destinations and subscribers receive it (no deliveries)."""
        return {
            "id": self.id,
            "rule": self.rule,
            "monitor": self.monitor,
            "deployment": self.deployment,
            "metric": self.metric,
            "value": self.value,
            "condition": self.condition,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "time": self.time,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class NewAlertEvent:
    """What a firing records; the store gives it an id and a time."""

    rule: str
    monitor: str
    deployment: str
    metric: str
    value: float | None
    condition: str
    window_start: int
    window_end: int
    message: str
