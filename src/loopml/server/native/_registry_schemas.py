"""Bodies of the native registry API, built on the registry's records.

Responses wrap the frozen records of ``loopml.store.registry_records`` (each
entity is described once); requests forbid unknown fields and are validated
strictly from the raw bytes (``_route``). Gates are described as data here:
the three built-in kinds, discriminated by ``type``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loopml.store import (
    AliasEvent,
    GateResult,
    ModelVersion,
    ModelVersionFile,
    PromotionResult,
    RegisteredModel,
)

USER = Field(
    default=None, description="Who acts (recorded with the change); default: the server's user."
)
REASON = Field(default="", description="Why: recorded in the alias history.")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")


# -- requests ---------------------------------------------------------------------


class CreateRegisteredModel(Request):
    name: str
    description: str = ""
    tags: dict[str, str] = {}


class UpdateRegisteredModel(Request):
    description: str


class RenameRegisteredModel(Request):
    new_name: str


class CreateModelVersion(Request):
    source: str = Field(description="Stored verbatim, e.g. runs:/<run id>/model.")
    files_source: str | None = Field(
        default=None,
        description="runs:/<run id>[/<path>]: the folder whose files the version snapshots; "
        "default: source.",
    )
    run_id: str | None = Field(default=None, description="Default: the run of files_source.")
    description: str = ""
    tags: dict[str, str] = {}
    model_id: str | None = None
    user: str | None = USER


class UpdateModelVersion(Request):
    description: str


class TransitionStage(Request):
    stage: str = Field(description="None, Staging, Production or Archived.")
    archive_existing_versions: bool = False


class ExpectedHolder(Request):
    version: int | None = Field(description="The version the alias must hold; null: unset.")


class GateVerdict(Request):
    gate: str
    passed: bool
    message: str = ""


class SetAlias(Request):
    version: int
    reason: str = REASON
    user: str | None = USER
    action: Literal["set", "promote", "rollback"] = "set"
    expected: ExpectedHolder | None = Field(
        default=None,
        description="Move only if the alias still has this holder (else 400 INVALID_STATE).",
    )
    gates: list[GateVerdict] = Field(
        default=[],
        description="With action 'promote': the verdicts of the gates the caller ran (all "
        "passed), recorded in the alias history.",
    )

    def gate_results(self) -> list[GateResult]:
        return [GateResult(g.gate, g.passed, g.message) for g in self.gates]


class MetricGateSpec(Request):
    type: Literal["metric"]
    metric: str
    greater_is_better: bool = True
    min_delta: float = Field(default=0.0, ge=0)


class SignatureGateSpec(Request):
    type: Literal["signature"]


class ValidationGateSpec(Request):
    type: Literal["validation"]
    report_path: str = "validation/report.json"


GateSpec = Annotated[
    MetricGateSpec | SignatureGateSpec | ValidationGateSpec, Field(discriminator="type")
]


class Promote(Request):
    version: int
    alias: str = "champion"
    gates: list[GateSpec] = []
    reason: str = REASON
    user: str | None = USER
    raise_on_failure: bool = Field(
        default=False, description="Answer 409 INVALID_STATE when a gate fails (else 200)."
    )

    def gate_specs(self) -> list[dict[str, Any]]:
        return [gate.model_dump() for gate in self.gates]


class Rollback(Request):
    reason: str = REASON
    user: str | None = USER


# -- responses --------------------------------------------------------------------


class RegisteredModelOut(Response):
    registered_model: RegisteredModel


class RegisteredModelsPage(Response):
    registered_models: list[RegisteredModel]
    next_page_token: str | None = None


class ModelVersionOut(Response):
    model_version: ModelVersion


class ModelVersionsPage(Response):
    model_versions: list[ModelVersion]
    next_page_token: str | None = None


class ModelVersionsOut(Response):
    model_versions: list[ModelVersion]


class FilesOut(Response):
    files: list[ModelVersionFile]


class AliasEventOut(Response):
    event: AliasEvent


class AliasEventsOut(Response):
    events: list[AliasEvent]


class PromotionOut(Response):
    result: PromotionResult
