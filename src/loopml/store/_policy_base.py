"""The policy store interface: automation policies, their runs, events and per-model locks.

The SQL store (SQLite and PostgreSQL, on the tracking store's database)
implements it. Callers (``loopml.automation.Policies``) validate policies
first; the store guarantees the invariants that make automation safe with
several server workers and crashes:

- one active run per model: ``create_run`` inserts the run and the model's
  lock row in one transaction; when the lock is taken the run is stored as
  ``skipped`` instead, naming the run that holds it;
- a trigger fires once: ``create_run`` can compare-and-set the policy's
  cursors in the same transaction, so two workers polling the same alert
  event create one run;
- a run is advanced by one worker at a time: ``claim_run`` takes a lease
  (owner + heartbeat) only when it is free or expired, and ``transition``
  moves a run only for the lease's owner, appending its event and releasing
  the lock when the run ends, all in one transaction.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.core.errors import NotFound
from loopml.store.policy_records import (
    NewPolicyEvent,
    PolicyEvent,
    PolicyRun,
    StoredPolicy,
    Transition,
)

MAX_EVENTS = 10_000


class PolicyStore(abc.ABC):
    """Where policies, policy runs and their events live."""

    # -- policies ---------------------------------------------------------------------
    @abc.abstractmethod
    def create_policy(
        self,
        name: str,
        model: str,
        spec: Mapping[str, Any],
        enabled: bool,
        cursors: Mapping[str, Any],
    ) -> StoredPolicy:
        """Store a new policy; AlreadyExists if the name is taken."""

    @abc.abstractmethod
    def replace_policy(
        self,
        name: str,
        model: str,
        spec: Mapping[str, Any],
        enabled: bool,
        cursors: Mapping[str, Any],
    ) -> StoredPolicy:
        """Replace a policy's spec, switch and cursors; NotFound."""

    @abc.abstractmethod
    def get_policy(self, name: str) -> StoredPolicy:
        """One policy; NotFound otherwise."""

    @abc.abstractmethod
    def list_policies(self) -> list[StoredPolicy]:
        """Every policy, by name."""

    @abc.abstractmethod
    def delete_policy(self, name: str) -> None:
        """Delete a policy (its runs and events stay as history); NotFound."""

    # -- runs -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        policy: str,
        model: str,
        spec: Mapping[str, Any],
        trigger: Mapping[str, Any],
        links: Mapping[str, Any],
        *,
        cursors: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    ) -> PolicyRun | None:
        """Queue a run holding the model's lock, or store it ``skipped`` if the lock is held.

        With ``cursors`` = (expected, new) the policy's cursors move from
        ``expected`` to ``new`` in the same transaction, and nothing is created
        (None) when they are no longer ``expected`` (another worker fired).
        Records the ``trigger`` event of the run.
        """

    @abc.abstractmethod
    def set_cursors(self, policy: str, expected: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """Move a policy's cursors from ``expected`` to ``new``; False if they moved already."""

    @abc.abstractmethod
    def get_run(self, run_id: int) -> PolicyRun:
        """One run; NotFound otherwise."""

    @abc.abstractmethod
    def list_runs(
        self,
        *,
        policy: str | None = None,
        states: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[PolicyRun]:
        """Runs (of one policy, in some states), newest first."""

    @abc.abstractmethod
    def active_run(self, model: str) -> PolicyRun | None:
        """The run holding ``model``'s lock, if any."""

    @abc.abstractmethod
    def claim_run(self, run_id: int, owner: str, now: int, lease_ms: int) -> PolicyRun | None:
        """Take the run's lease for ``owner`` if it is free, ``owner``'s, or expired.

        None when another worker holds a live lease or the run has ended.
        """

    @abc.abstractmethod
    def heartbeat(self, run_id: int, owner: str, now: int) -> bool:
        """Renew ``owner``'s lease; False when the lease is no longer ``owner``'s."""

    @abc.abstractmethod
    def release(self, run_id: int, owner: str) -> None:
        """Give the lease up (the run stays in its state for the next worker)."""

    @abc.abstractmethod
    def transition(self, run_id: int, owner: str, move: Transition) -> PolicyRun:
        """Move a run held by ``owner`` to a new state, with its event, in one transaction.

        A terminal state ends the run: the finish time is set, the lease and the
        model's lock are released. InvalidState if ``owner`` does not hold the run.
        """

    # -- events -----------------------------------------------------------------------
    @abc.abstractmethod
    def add_event(self, run_id: int, event: NewPolicyEvent) -> PolicyEvent:
        """Record an event of a run that does not change its state; NotFound."""

    @abc.abstractmethod
    def list_events(
        self,
        *,
        policy: str | None = None,
        run_id: int | None = None,
        limit: int = 1000,
    ) -> list[PolicyEvent]:
        """Events by id, oldest first (the newest ``limit`` of them)."""


def missing_policy(name: str) -> NotFound:
    return NotFound(f"No policy named {name!r}: `loopml policies list` shows the policies.")


def missing_run(run_id: int) -> NotFound:
    return NotFound(f"No policy run {run_id}: `loopml policies history NAME` lists runs.")
