"""``Policies``: stored automation policies, their triggers, and the runs ``tick`` advances.

::

    policies = Policies()                       # over loopml.tracking.get_client()
    policies.create(Policy(name="churn-retrain", model="churn", deployment="churn",
                           pipeline="churn_flow:training", holdout="churn-holdout",
                           target="churned", gates=["regression:roc_auc:0.0"],
                           triggers=[{"type": "alert", "rule": "churn-drift"}]))
    policies.trigger("churn-retrain", reason="new labels")   # a queued run
    policies.tick()                             # poll triggers, advance every active run
    policies.events("churn-retrain")            # every step, with reasons and links

The server's scheduler calls ``tick`` every interval (``loopml server
--scheduler``); ``loopml policies run-pending`` calls it once. Embedded the
work happens here; against a server (``RemotePolicies``) on the server.
"""

from __future__ import annotations

import builtins
import logging
import os
import socket
import uuid
from typing import Any

from loopml.automation._advance import Advancer
from loopml.automation._policy import Policy
from loopml.automation._triggers import initial_cursors, poll
from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, InvalidState, LoopmlError
from loopml.datasets import Datasets
from loopml.deployments import Deployments
from loopml.monitoring._monitors import validate_name
from loopml.pipelines import resolve_target
from loopml.registry import Registry
from loopml.store import (
    ACTIVE_STATES,
    MAX_EVENTS,
    NewPolicyEvent,
    PolicyEvent,
    PolicyRun,
    SqlMonitorStore,
    SqlPolicyStore,
    SqlTrackingStore,
    StoredPolicy,
    Transition,
)
from loopml.store.policy_records import FAILED
from loopml.tracking import Client, get_client

log = logging.getLogger("loopml.automation")

DEFAULT_LEASE_SECONDS = 60.0
MAX_RUNS = 1000


class Policies:
    """The automation policies of one metadata store (embedded, or inside the server).

    ``lease_seconds`` is how long a run's worker may go silent before another
    worker decides it died (a heartbeat renews it every quarter of that while
    training or evaluating).
    """

    def __init__(
        self, client: Client | None = None, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> None:
        self.client = client if client is not None else get_client()
        if not isinstance(self.client.store, SqlTrackingStore):
            raise InvalidArgument(
                "Policies run beside the metadata database; against a server use "
                "loopml.automation.open_policies(client), which talks to its API."
            )
        if isinstance(lease_seconds, bool) or not lease_seconds > 0:
            raise InvalidArgument(f"lease_seconds must be above 0, not {lease_seconds!r}.")
        self.store = SqlPolicyStore(self.client.store.db)
        self._alerts = SqlMonitorStore(self.client.store.db)
        self._datasets = Datasets(self.client)
        self.lease_ms = int(lease_seconds * 1000)
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    # -- policies -----------------------------------------------------------------------
    def create(self, policy: Policy) -> Policy:
        """Store a new policy after checking what it names exists; AlreadyExists."""
        self._check_references(policy)
        cursors = initial_cursors(policy, self._alerts, self._datasets, now_ms())
        stored = self.store.create_policy(
            policy.name, policy.model, policy.to_dict(), policy.enabled, cursors
        )
        return _policy(stored)

    def update(self, policy: Policy) -> Policy:
        """Replace a stored policy (runs already started keep the spec they started with)."""
        self._check_references(policy)
        old = self.store.get_policy(policy.name)
        cursors = initial_cursors(policy, self._alerts, self._datasets, now_ms(), old.cursors)
        stored = self.store.replace_policy(
            policy.name, policy.model, policy.to_dict(), policy.enabled, cursors
        )
        return _policy(stored)

    def apply(self, policy: Policy) -> Policy:
        """Create the policy, or replace it if one has that name."""
        names = {p.name for p in self.store.list_policies()}
        return self.update(policy) if policy.name in names else self.create(policy)

    def get(self, name: str) -> Policy:
        return _policy(self.store.get_policy(validate_name(name, "policy")))

    def list(self) -> builtins.list[Policy]:
        return [_policy(p) for p in self.store.list_policies()]

    def delete(self, name: str) -> None:
        """Delete a policy; its runs and events stay. InvalidState while a run is active."""
        name = validate_name(name, "policy")
        active = self.store.list_runs(policy=name, states=ACTIVE_STATES, limit=1)
        if active:
            raise InvalidState(
                f"Policy {name!r} has an active run {active[0].id} ({active[0].state}): "
                "wait for it to end before deleting the policy."
            )
        self.store.delete_policy(name)

    def _check_references(self, policy: Policy) -> None:
        """Refuse a policy naming a model, deployment, pipeline, dataset or rule not there."""
        Registry(self.client).get_registered_model(policy.model)
        Deployments(self.client).get(policy.deployment)
        self._datasets.get(policy.holdout)
        if policy.dataset is not None:
            self._datasets.latest(policy.dataset)
        for rule in policy.alert_rules():
            self._alerts.get_rule(rule)
        resolve_target(policy.pipeline, policy.workdir)

    # -- runs ---------------------------------------------------------------------------
    def trigger(self, name: str, reason: str = "manual") -> PolicyRun:
        """Queue a run now: state ``queued``, or ``skipped`` when the model is busy."""
        if not isinstance(reason, str) or len(reason) > 1000:
            raise InvalidArgument("reason must be text of at most 1000 characters.")
        stored = self.store.get_policy(validate_name(name, "policy"))
        if not stored.enabled:
            raise InvalidState(f"Policy {name!r} is disabled: enable it (enabled: true) to run it.")
        trigger = {"type": "manual", "reason": f"manual: {reason or 'no reason given'}"}
        run = self.store.create_run(stored.name, stored.model, stored.spec, trigger, {})
        assert run is not None  # no cursors to compare: always created
        return run

    def poll_triggers(self) -> builtins.list[PolicyRun]:
        """Start a run for every enabled policy whose trigger fired since it last looked."""
        created = []
        now = now_ms()
        for stored in self.store.list_policies():
            if not stored.enabled:
                continue
            try:
                policy = Policy.from_dict(stored.spec)
                cursors, fired = poll(policy, stored.cursors, self._alerts, self._datasets, now)
            except LoopmlError as exc:
                log.warning("Policy %s: its triggers could not be read: %s", stored.name, exc)
                continue
            if fired is None:
                if cursors != stored.cursors:
                    self.store.set_cursors(stored.name, stored.cursors, cursors)
                continue
            links: dict[str, Any] = {k: fired[k] for k in ("alert_event", "dataset") if k in fired}
            run = self.store.create_run(
                stored.name,
                stored.model,
                stored.spec,
                fired,
                links,
                cursors=(stored.cursors, cursors),
            )
            if run is not None:  # None: another worker fired it first
                created.append(run)
        return created

    def tick(self) -> builtins.list[PolicyRun]:
        """Poll the triggers, then advance every active run this worker can take.

        Returns the runs it moved (a canary still waiting for traffic included).
        """
        self.poll_triggers()
        advanced = []
        for run in reversed(self.store.list_runs(states=ACTIVE_STATES, limit=MAX_RUNS)):
            owner = f"{self._worker}:{uuid.uuid4().hex[:12]}"
            claimed = self.store.claim_run(run.id, owner, now_ms(), self.lease_ms)
            if claimed is None:
                continue  # another worker holds it (a training in progress, say)
            advancer = Advancer(self.client, self.store, owner, self.lease_ms)
            try:
                advanced.append(advancer.advance(claimed))
            except Exception as exc:  # a bug or a dead database must not stop other runs
                log.exception("Policy run %s failed unexpectedly", run.id)
                advanced.append(self._abandon(claimed, owner, exc))
        return advanced

    def _abandon(self, run: PolicyRun, owner: str, exc: Exception) -> PolicyRun:
        reason = f"internal error: {type(exc).__name__}: {exc}"
        try:
            current = self.store.get_run(run.id)
            if current.done or current.lease_owner != owner:
                return current
            return self.store.transition(
                run.id,
                owner,
                Transition(FAILED, NewPolicyEvent(current.state, "failed", reason), reason=reason),
            )
        except LoopmlError:
            return run

    def runs(self, name: str | None = None, *, limit: int = 50) -> builtins.list[PolicyRun]:
        """Runs of one policy (or of all), newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RUNS:
            raise InvalidArgument(f"limit must be between 1 and {MAX_RUNS}.")
        policy = None if name is None else validate_name(name, "policy")
        return self.store.list_runs(policy=policy, limit=limit)

    def get_run(self, run_id: int) -> PolicyRun:
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            raise InvalidArgument(f"A policy run id is an integer, not {run_id!r}.")
        if not 1 <= run_id < 2**63:  # beyond any id the database can hold
            raise InvalidArgument(f"Invalid policy run id {run_id}: ids count up from 1.")
        return self.store.get_run(run_id)

    def events(
        self, name: str | None = None, *, run_id: int | None = None, limit: int = 1000
    ) -> builtins.list[PolicyEvent]:
        """Events of a policy (or of one run), oldest first: the newest ``limit``."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_EVENTS:
            raise InvalidArgument(f"limit must be between 1 and {MAX_EVENTS}.")
        policy = None if name is None else validate_name(name, "policy")
        if run_id is not None:
            self.get_run(run_id)
        return self.store.list_events(policy=policy, run_id=run_id, limit=limit)


def _policy(stored: StoredPolicy) -> Policy:
    spec: dict[str, Any] = dict(stored.spec)
    return Policy.from_dict(spec)
