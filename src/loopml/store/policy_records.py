"""Frozen records of automation policies, their runs and the events of those runs.

A ``StoredPolicy`` is a policy as the store keeps it: its spec (interpreted by
``loopml.automation``), whether it is on, and its trigger cursors (what it has
seen already: the last alert event id, the last cron check, the newest
version of each watched dataset). A ``PolicyRun`` is one attempt to retrain,
gate, canary and promote a model; its ``state`` only moves forward and every
move appends a ``PolicyEvent``. Times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QUEUED = "queued"
TRAINING = "training"
EVALUATING = "evaluating"
GATED = "gated"
REGISTERED = "registered"
CANARY = "canary"
PROMOTED = "promoted"
ROLLED_BACK = "rolled_back"
FAILED = "failed"
SKIPPED = "skipped"

ACTIVE_STATES = (QUEUED, TRAINING, EVALUATING, GATED, REGISTERED, CANARY)
TERMINAL_STATES = (PROMOTED, ROLLED_BACK, FAILED, SKIPPED)
RUN_STATES = ACTIVE_STATES + TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """A policy as stored: ``spec`` is its JSON form, ``cursors`` what its triggers saw."""

    name: str
    model: str
    spec: dict[str, Any]
    enabled: bool
    cursors: dict[str, Any]
    created_time: int
    updated_time: int


@dataclass(frozen=True, slots=True)
class PolicyRun:
    """One run of a policy: where it is, why it started, what it made and decided.

    ``links`` name what the run touched (``pipeline_run``, ``model_version``,
    ``dataset``, ``alert_event``, ``evaluation_run``, ``previous_champion``);
    ``details`` hold the numbers (evaluation metrics, gate verdicts, canary
    counts). ``spec`` is the policy as it was when the run started. A worker
    holds the run while ``lease_owner`` is set and ``heartbeat_time`` recent.
    """

    id: int
    policy: str
    model: str
    state: str
    trigger: dict[str, Any]
    reason: str
    links: dict[str, Any]
    details: dict[str, Any]
    spec: dict[str, Any]
    canary_started: int | None
    lease_owner: str | None
    heartbeat_time: int | None
    created_time: int
    updated_time: int
    finished_time: int | None

    @property
    def done(self) -> bool:
        """Whether the run has ended (promoted, rolled back, failed or skipped)."""
        return self.state in TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class PolicyEvent:
    """One step of a policy run: what happened (``status``), why, and what it links to."""

    id: int
    run_id: int
    policy: str
    time_ms: int
    step: str
    status: str
    reason: str
    links: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewPolicyEvent:
    """What a transition records; the store gives it an id, the run and a time."""

    step: str
    status: str
    reason: str
    links: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transition:
    """A move of a run: its new state and what changes with it, recorded as one event.

    ``links`` and ``details`` are merged into the run's; ``reason`` (when given)
    replaces the run's outcome text; ``canary_started`` is set when given.
    """

    state: str
    event: NewPolicyEvent
    links: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    canary_started: int | None = None
