"""Automation policies: a trigger retrains a model, gates it, canaries it, promotes it.

::

    from loopml.automation import Policy, Policies

    policies = Policies()                       # over loopml.tracking.get_client()
    policies.create(Policy(
        name="churn-retrain", model="churn", deployment="churn",
        pipeline="churn_flow:training", holdout="churn-holdout", target="churned",
        gates=["regression:roc_auc:0.0"],
        triggers=[{"type": "alert", "rule": "churn-drift"},
                  {"type": "schedule", "cron": "0 3 * * *"},
                  {"type": "dataset", "name": "churn-train"}],
        canary={"weight": 0.2, "requests": 200, "max_seconds": 600},
        limits={"max_error_rate": 0.02, "max_latency_p95_ms": 250, "min_requests": 50}))
    policies.trigger("churn-retrain", reason="by hand")
    policies.tick()                             # what the server's scheduler calls
    policies.events("churn-retrain")            # each step, its reason and its links

A run trains with the policy's pipeline (on the newest data), evaluates the
candidate against the champion on a holdout dataset, applies the gates,
registers it as ``challenger``, routes a canary share of the deployment's
traffic to it while the prediction log is watched, then promotes it to
``champion`` or rolls it back. One model never has two active runs; a
crashed worker's run is failed cleanly or, in its canary, resumed.
"""

from loopml.automation._canary import CanaryStats, canary_stats
from loopml.automation._policies import Policies
from loopml.automation._policy import Policy, load_policy
from loopml.automation._remote import RemotePolicies, open_policies
from loopml.automation._scheduler import PolicyScheduler
from loopml.store.policy_records import (
    ACTIVE_STATES,
    RUN_STATES,
    TERMINAL_STATES,
    PolicyEvent,
    PolicyRun,
)

__all__ = [
    "ACTIVE_STATES",
    "RUN_STATES",
    "TERMINAL_STATES",
    "CanaryStats",
    "Policies",
    "Policy",
    "PolicyEvent",
    "PolicyRun",
    "PolicyScheduler",
    "RemotePolicies",
    "canary_stats",
    "load_policy",
    "open_policies",
]
