"""Bodies of the native feature definitions API.

Definitions travel as their specs (``kind``, ``name``, ``spec``: what
``Definition.spec()`` gives), never as code: the server rebuilds them and
runs the same checks as an embedded apply. Responses wrap the frozen records
of ``loopml.store.feature_records``. Requests forbid unknown fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loopml.server.native._schemas import Millis
from loopml.store import FeatureMaterialization, FeatureRecord


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# -- requests ---------------------------------------------------------------------


class DefinitionIn(Request):
    kind: str = Field(description="entity, feature_view, on_demand_feature_view, feature_service.")
    name: str
    spec: dict[str, Any] = Field(description="The definition's spec(), as JSON.")


class ApplyDefinitions(Request):
    definitions: list[DefinitionIn] = Field(max_length=10_000)


class RecordMaterialization(Request):
    view: str
    start_ms: Millis
    end_ms: Millis
    rows: int = Field(ge=0)


# -- responses --------------------------------------------------------------------


class ApplyResultOut(BaseModel):
    kind: str
    name: str
    version: int
    changed: bool


class ApplyOut(BaseModel):
    results: list[ApplyResultOut]


class DefinitionOut(BaseModel):
    definition: FeatureRecord


class DefinitionsOut(BaseModel):
    definitions: list[FeatureRecord]


class MaterializationOut(BaseModel):
    materialization: FeatureMaterialization


class MaterializationsOut(BaseModel):
    materializations: list[FeatureMaterialization]
    last_materialized: int | None
