"""Bodies of the native automation API.

A policy travels in its JSON form (``Policy.to_dict``) and is checked by
``Policy.from_dict`` in the service, so the API refuses exactly what the SDK
refuses, with the same message. Runs and events are the store's frozen
records. Requests forbid unknown fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from loopml.store import PolicyEvent, PolicyRun


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="null")


class SavePolicy(Request):
    policy: dict[str, Any]
    replace: bool = False


class TriggerPolicy(Request):
    reason: str = "manual"


class Tick(Request):
    pass


class PolicyOut(Response):
    policy: dict[str, Any]


class PoliciesOut(Response):
    policies: list[dict[str, Any]]


class RunOut(Response):
    run: PolicyRun


class RunsOut(Response):
    runs: list[PolicyRun]


class EventsOut(Response):
    events: list[PolicyEvent]
