"""Trigger polling: what happened since a policy last looked, and its cursors after.

A policy's cursors record what its triggers have seen: the id of the last
alert event read (``alert_event``), the last time its cron was checked
(``cron``) and the newest version of each watched dataset (``datasets``).
A new policy starts at "now", so history (alerts fired last week, datasets
registered before) never starts a run. Polling returns the new cursors and
at most one trigger: everything that fired since the last look is one
reason to retrain, not several runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from loopml.automation._policy import Policy
from loopml.core.errors import NotFound
from loopml.datasets import Datasets
from loopml.pipelines._schedules import next_time
from loopml.store import MAX_RESULTS, MonitorStore

Cursors = dict[str, Any]


def initial_cursors(
    policy: Policy,
    monitors: MonitorStore,
    datasets: Datasets,
    now: int,
    previous: Mapping[str, Any] | None = None,
) -> Cursors:
    """Cursors at ``now`` for the policy's triggers; ``previous`` values are kept.

    NotFound (from the dataset registry) for a watched dataset with no version,
    so a policy watching a dataset that does not exist is refused when saved.
    """
    old = dict(previous or {})
    newest = monitors.list_events(limit=1)
    cursors: Cursors = {
        "alert_event": old.get("alert_event", newest[0].id if newest else 0),
        "cron": old.get("cron", now),
        "datasets": {},
    }
    seen = old.get("datasets") or {}
    for trigger in policy.triggers:
        if trigger["type"] == "dataset":
            name = trigger["name"]
            cursors["datasets"][name] = seen.get(name, datasets.latest(name).version)
    return cursors


def poll(
    policy: Policy,
    cursors: Mapping[str, Any],
    monitors: MonitorStore,
    datasets: Datasets,
    now: int,
) -> tuple[Cursors, dict[str, Any] | None]:
    """The cursors after looking at every trigger, and the trigger that fired (or None)."""
    new: Cursors = {
        "alert_event": int(cursors.get("alert_event", 0)),
        "cron": int(cursors.get("cron", now)),
        "datasets": dict(cursors.get("datasets") or {}),
    }
    fired: list[dict[str, Any]] = []
    rules = set(policy.alert_rules())
    if rules:
        events = monitors.list_events(after_id=new["alert_event"], limit=MAX_RESULTS)
        if events:
            new["alert_event"] = max(e.id for e in events)
        matching = [e for e in events if e.rule in rules]
        if matching:
            event = matching[-1]
            fired.append(
                {
                    "type": "alert",
                    "reason": f"alert {event.rule!r} fired: {event.message}",
                    "alert_event": event.id,
                    "rule": event.rule,
                }
            )
    for trigger in policy.triggers:
        if trigger["type"] == "schedule":
            due = next_time(trigger["cron"], new["cron"])
            if due <= now:
                new["cron"] = now  # missed slots are one firing, not one per slot
                stamp = dt.datetime.fromtimestamp(due / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
                fired.append(
                    {
                        "type": "schedule",
                        "reason": f"schedule {trigger['cron']!r} due at {stamp} UTC",
                    }
                )
        elif trigger["type"] == "dataset":
            name = trigger["name"]
            try:
                latest = datasets.latest(name).version
            except NotFound:
                continue  # deleted since: nothing new to train on
            if latest > int(new["datasets"].get(name, 0)):
                new["datasets"][name] = latest
                fired.append(
                    {
                        "type": "dataset",
                        "reason": f"dataset {name!r} has a new version {latest}",
                        "dataset": f"{name}@{latest}",
                    }
                )
    if not fired:
        return new, None
    trigger = dict(fired[0])
    for other in fired[1:]:
        trigger.update({k: v for k, v in other.items() if k not in ("type", "reason")})
    trigger["reason"] = "; ".join(t["reason"] for t in fired)
    return new, trigger
