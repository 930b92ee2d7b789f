"""The demo's retraining policy, and following its run on the timeline.

The policy is what a team would write: on the drift alert, retrain with
``loopml.demo.pipeline:training`` on the newest ``churn-train``, evaluate
the candidate against the champion on the newest ``churn-holdout``, gate
it, canary it on live traffic within error and latency limits, promote it.
The server's scheduler runs it; the demo only reads its events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loopml.automation import Policy, PolicyEvent, PolicyRun, open_policies
from loopml.core.errors import InvalidState
from loopml.demo._timeline import PENDING, RUNNING, Timeline
from loopml.tracking import Client

if TYPE_CHECKING:
    from loopml.demo._demo import DemoOptions

POLICY = "churn-retrain"
PIPELINE = "loopml.demo.pipeline:training"
GATES = ("min:roc_auc:0.7", "regression:roc_auc:0.0", "latency:50")
POLL_SECONDS = 0.5

# Which timeline step a policy event belongs to.
_STEP_OF = {
    "trigger": "retrain",
    "training": "retrain",
    "evaluation": "gates",
    "gates": "gates",
    "registration": "canary",
    "canary": "canary",
    "promotion": "promote",
    "rollback": "canary",
}
_ORDER = ("retrain", "gates", "canary", "promote")
_NEXT = {
    "gates": "evaluating the challenger against the champion on the holdout",
    "canary": "registering the challenger",
    "promote": "promoting",
}


@dataclass
class Outcome:
    """How the policy run ended, with its run record and every event it wrote."""

    status: str
    reason: str
    run: PolicyRun | None = None
    events: list[PolicyEvent] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.status == "promoted"


def demo_policy(params: Mapping[str, Any], options: DemoOptions) -> Policy:
    """The demo's policy over the tuned ``params``."""
    return Policy(
        name=POLICY,
        model="churn",
        deployment="churn",
        pipeline=PIPELINE,
        params={k: v for k, v in params.items() if k != "dataset"},
        model_step="train",
        holdout="churn-holdout",
        target="churned",
        gates=list(GATES),
        triggers=[{"type": "alert", "rule": "churn-drift"}],
        dataset="churn-train",
        canary={
            "weight": options.canary_weight,
            "requests": options.canary_requests,
            "max_seconds": 90,
        },
        limits={"max_error_rate": 0.02, "max_latency_p95_ms": 500, "min_requests": 30},
        executor="inline",
        description="loopml demo: retrain on drift, gate, canary, promote",
    )


def create_policy(client: Client, params: Mapping[str, Any], options: DemoOptions) -> str:
    """Store the demo's policy on the server; the timeline line for it."""
    policy = open_policies(client).create(demo_policy(params, options))
    canary = policy.canary
    return (
        f"{policy.name}: on alert 'churn-drift' -> {PIPELINE} -> gates "
        f"{', '.join(GATES)} -> canary {float(canary['weight']):.0%} "
        f"for {canary['requests']} requests -> promote"
    )


def follow(
    client: Client,
    timeline: Timeline,
    *,
    deadline: float,
    tick: Callable[[], None],
    on_canary: Callable[[], None] = lambda: None,
) -> Outcome:
    """Show the policy's events as they come until its first run ends; how it ended.

    ``on_canary`` is called once, when the canary starts (the traffic counts
    what happens from then on separately).
    """
    policies = open_policies(client)
    shown: set[int] = set()
    canary_seen = False
    while True:
        for event in policies.events(POLICY):
            if event.id in shown:
                continue
            shown.add(event.id)
            if event.step == "canary" and event.status == "started" and not canary_seen:
                canary_seen = True
                on_canary()
            show_event(timeline, event)
        runs = policies.runs(POLICY, limit=1)
        run = runs[0] if runs else None
        if run is not None and run.done:
            return Outcome(run.state, run.reason, run, policies.events(POLICY))
        if time.monotonic() > deadline:
            state = run.state if run else "not triggered"
            raise InvalidState(
                f"The policy run did not finish in the time allowed (state: {state}): "
                f"see `loopml policies history {POLICY}`."
            )
        tick()
        time.sleep(POLL_SECONDS)


def show_event(timeline: Timeline, event: PolicyEvent) -> None:
    """Put a policy event on the timeline: an event line, and the step it moves along.

    Steps advance in order: an event of a later step finishes the earlier ones
    still running (a promotion ends the canary), a passed step starts the next.
    """
    timeline.event("policy", f"{event.step} {event.status}: {event.reason}")
    key = _STEP_OF.get(event.step)
    if key is None or event.status == "skipped":
        return
    if event.step == "rollback" or event.status == "failed":
        timeline.fail(key, event.reason)
        return
    position = _ORDER.index(key)
    for earlier in _ORDER[:position]:
        if timeline.step(earlier).status in (RUNNING, PENDING):
            timeline.done(earlier)
    if timeline.step(key).status == PENDING:
        timeline.start(key, event.reason)
    finished = event.status in ("passed", "done") and event.step not in ("trigger", "registration")
    if not finished:
        timeline.note(key, event.reason)
        return
    timeline.done(key, event.reason)
    if position + 1 < len(_ORDER) and timeline.step(_ORDER[position + 1]).status == PENDING:
        timeline.start(_ORDER[position + 1], _NEXT[_ORDER[position + 1]])
