"""Triggers: alert events, cron slots and dataset versions start one run each, once."""

from __future__ import annotations

from policy_world import World, training_frame

from loopml.core.clock import now_ms
from loopml.monitoring import Monitors
from loopml.store import NewAlertEvent, SqlMonitorStore


def _fire(world: World, rule: str, window_start: int) -> int:
    event = SqlMonitorStore(world.client.store.db).record_event(  # type: ignore[attr-defined]
        NewAlertEvent(
            rule=rule,
            monitor="churn-live",
            deployment="churn",
            metric="dataset_drift",
            value=1.0,
            condition="dataset_drift",
            window_start=window_start,
            window_end=window_start + 10_000,
            message="dataset drift: 3 of 4 columns drifted",
        )
    )
    assert event is not None
    return event.id


def test_an_alert_of_a_listed_rule_starts_one_run_linked_to_it(world: World) -> None:
    monitors = Monitors(world.client)
    monitors.create("churn-live", "churn", window="10s")
    monitors.add_rule("churn-drift", "churn-live", "dataset_drift", cooldown=0)
    monitors.add_rule("churn-errors", "churn-live", "error_rate > 0.1", cooldown=0)
    _fire(world, "churn-drift", 0)  # before the policy existed: history, not a trigger
    world.policies.create(world.policy(triggers=[{"type": "alert", "rule": "churn-drift"}]))
    assert world.policies.poll_triggers() == []
    _fire(world, "churn-errors", 10_000)  # a rule the policy does not listen to
    assert world.policies.poll_triggers() == []
    fired = _fire(world, "churn-drift", 20_000)
    (run,) = world.policies.poll_triggers()
    assert run.trigger["type"] == "alert" and run.trigger["rule"] == "churn-drift"
    assert "dataset drift: 3 of 4 columns drifted" in run.trigger["reason"]
    assert run.links == {"alert_event": fired}
    assert world.policies.poll_triggers() == []  # the cursor moved past it
    (event,) = world.policies.events("retrain")
    assert (event.step, event.status, event.links) == ("trigger", "queued", {"alert_event": fired})
    # Another alert while the run is active: recorded as a skipped run, not a second run.
    _fire(world, "churn-drift", 30_000)
    (skipped,) = world.policies.poll_triggers()
    assert skipped.state == "skipped" and f"run {run.id}" in skipped.reason
    assert [r.state for r in world.policies.runs("retrain")] == ["skipped", "queued"]


def test_a_cron_slot_fires_once_however_many_passed(world: World) -> None:
    world.policies.create(world.policy(triggers=[{"type": "schedule", "cron": "* * * * *"}]))
    assert world.policies.poll_triggers() == []  # the next slot is in the future
    stored = world.policies.store.get_policy("retrain")
    past = {**stored.cursors, "cron": now_ms() - 10 * 60_000}  # the scheduler was down 10 min
    assert world.policies.store.set_cursors("retrain", stored.cursors, past)
    (run,) = world.policies.poll_triggers()
    assert run.trigger["type"] == "schedule" and "'* * * * *' due at" in run.trigger["reason"]
    assert world.policies.poll_triggers() == []


def test_a_disabled_policy_is_not_triggered(world: World) -> None:
    world.policies.create(
        world.policy(enabled=False, triggers=[{"type": "dataset", "name": "churn-train"}])
    )
    world.register_data("churn-train", training_frame(seed=3))
    assert world.policies.poll_triggers() == []
    assert world.policies.runs() == []
