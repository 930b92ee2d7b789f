"""Bodies of the native deployments API, built on the deployment records.

Responses wrap the frozen records of ``loopml.store.deployment_records`` (each
entity is described once); requests forbid unknown fields and are validated
strictly from the raw bytes (``_route``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loopml.store import Deployment, PredictionSegment

URI = "models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>/<path>."
FEATURE_SERVICE = "A feature service: requests then carry entity keys and request data."


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")


# -- requests ---------------------------------------------------------------------


class CreateDeployment(Request):
    name: str
    model_uri: str = Field(description=URI)
    canary_uri: str | None = Field(default=None, description=URI)
    canary_weight: float = Field(default=0.0, description="Share of requests for the canary.")
    shadow_uri: str | None = Field(default=None, description=URI)
    description: str = ""
    feature_service: str | None = Field(default=None, description=FEATURE_SERVICE)


class UpdateDeployment(Request):
    """Only the fields present change; null clears the canary or the shadow."""

    model_uri: str | None = Field(default=None, description=URI)
    canary_uri: str | None = Field(default=None, description=URI)
    canary_weight: float | None = None
    shadow_uri: str | None = Field(default=None, description=URI)
    description: str | None = None
    feature_service: str | None = Field(default=None, description=FEATURE_SERVICE)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class Label(Request):
    request_id: str
    label: Any = Field(description="Any JSON value: the ground truth of the request.")


class LogLabels(Request):
    labels: list[Label]


# -- responses --------------------------------------------------------------------


class DeploymentOut(Response):
    deployment: Deployment


class DeploymentsOut(Response):
    deployments: list[Deployment]


class LabelCount(Response):
    count: int


class SegmentOut(Response):
    segment: PredictionSegment


class SegmentsOut(Response):
    segments: list[PredictionSegment]
