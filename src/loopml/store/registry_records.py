"""Frozen records of the model registry: the one description of each registry entity.

Names follow MLflow's registry entities (``RegisteredModel``, ``ModelVersion``,
aliases, legacy stages) so that users and the MLflow-compatible API find what
they expect. Times are epoch milliseconds; version numbers are ints starting at
1 per registered model and never reused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ModelVersionStatus(enum.StrEnum):
    """MLflow's ``ModelVersionStatus`` names; a loopml version is READY once created."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


class Stage(enum.StrEnum):
    """MLflow's legacy model stages (older clients still move versions through them)."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"


class AliasAction(enum.StrEnum):
    """What moved an alias: recorded with every alias event."""

    SET = "set"  # set_alias: unconditional (the MLflow API path)
    PROMOTE = "promote"  # promote: every gate passed
    ROLLBACK = "rollback"  # rollback: back to the previous holder
    DELETE = "delete"  # delete_alias


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model; ``aliases`` maps each alias to the version holding it."""

    name: str
    creation_time: int
    last_updated_time: int
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One immutable version of a registered model.

    ``source`` is stored verbatim (``runs:/<run>/model``, or MLflow's
    ``models:/m-...``); the files are a snapshot taken at creation (see
    ``ModelVersionFile``). ``signature`` is the manifest's ``signature`` mapping
    (MLflow keeps ``inputs``/``outputs`` as JSON strings), or None. ``stage`` is
    the legacy MLflow stage; ``user`` who created the version.
    """

    name: str
    version: int
    creation_time: int
    last_updated_time: int
    description: str
    source: str
    run_id: str | None
    status: str
    stage: str
    tags: dict[str, str]
    aliases: tuple[str, ...]
    signature: dict[str, Any] | None
    model_id: str | None
    user: str


@dataclass(frozen=True, slots=True)
class ModelVersionFile:
    """One file of a version's snapshot: path relative to the model folder, blob, size."""

    path: str
    blob_id: str
    size: int


@dataclass(frozen=True, slots=True)
class GateResult:
    """The verdict of one gate on one promotion; ``message`` says why."""

    gate: str
    passed: bool
    message: str


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One move of an alias, oldest first in a history: who, when, why.

    ``version`` is the new holder (None: the alias was deleted) and
    ``previous_version`` the holder before (None: the alias was unset).
    ``gates`` is each gate's verdict on a promotion (empty when no gate ran:
    a set, a rollback, a deletion, or a promotion without gates), so the
    history says what a version passed to earn its alias.
    """

    name: str
    alias: str
    version: int | None
    previous_version: int | None
    time: int
    user: str
    reason: str
    action: str = AliasAction.SET
    gates: tuple[GateResult, ...] = ()


@dataclass(frozen=True, slots=True)
class PromotionResult:
    """What ``promote`` did: whether the alias moved, and each gate's verdict."""

    promoted: bool
    name: str
    alias: str
    version: int
    previous_version: int | None
    gate_results: tuple[GateResult, ...] = ()

    @property
    def failures(self) -> tuple[GateResult, ...]:
        """The gates that did not pass."""
        return tuple(r for r in self.gate_results if not r.passed)
