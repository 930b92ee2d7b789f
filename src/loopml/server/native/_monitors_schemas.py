"""Bodies of the native monitoring and alerting API.

Responses wrap the frozen records of ``loopml.store.monitor_records``;
the handlers send alert rules with their destinations redacted (a webhook's
secret and a Slack URL's token never leave the server). Requests forbid unknown fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loopml.store import AlertEvent, AlertRule, Monitor, MonitorResult

DURATION = "A duration: 90s, 15m, 1h, 1h30m, 2d, or a number of seconds."


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="null")


# -- requests ---------------------------------------------------------------------


class CreateMonitor(Request):
    name: str
    deployment: str
    window: str | int | float = Field(default="1h", description=DURATION)
    step: str | int | float | None = Field(default=None, description=DURATION)
    task: str | None = Field(default=None, description="classification or regression.")
    target: str | None = Field(default=None, description="The label column of the reference.")
    columns: list[str] | None = None
    reference: str | None = Field(default=None, description="A dataset version, NAME@VERSION.")
    drift: dict[str, Any] | None = None
    roles: list[str] = ["primary", "canary"]
    start_ms: int | None = None
    max_windows: int = 1000


class RunMonitor(Request):
    until_ms: int | None = None


class CreateRule(Request):
    name: str
    monitor: str
    condition: str = Field(description="For example: accuracy < 0.8 for 2 windows.")
    cooldown: str | int | float = Field(default="1h", description=DURATION)
    webhooks: list[str] = []
    slack: list[str] = []
    secret: str | None = None


class UpdateRule(Request):
    enabled: bool


# -- responses --------------------------------------------------------------------


class MonitorOut(Response):
    monitor: Monitor


class MonitorsOut(Response):
    monitors: list[Monitor]


class ResultsOut(Response):
    results: list[MonitorResult]


class RunOut(Response):
    monitor: str
    results: list[MonitorResult]
    events: list[AlertEvent]


class RuleOut(Response):
    rule: AlertRule


class RulesOut(Response):
    rules: list[AlertRule]


class EventsOut(Response):
    events: list[AlertEvent]
