"""The policy store on SQLite and PostgreSQL: the per-model lock, cursors, leases, events."""

from __future__ import annotations

import pytest

from loopml.core.errors import AlreadyExists, InvalidState, NotFound
from loopml.store import (
    NewPolicyEvent,
    SqlPolicyStore,
    SqlTrackingStore,
    Transition,
)

SPEC = {"name": "p", "model": "m"}
LEASE = 60_000


@pytest.fixture
def policies(store: SqlTrackingStore) -> SqlPolicyStore:
    found = SqlPolicyStore(store.db)
    found.create_policy("p", "m", SPEC, True, {"alert_event": 0})
    return found


def test_policies_are_created_replaced_listed_and_deleted(policies: SqlPolicyStore) -> None:
    with pytest.raises(AlreadyExists):
        policies.create_policy("p", "m", SPEC, True, {})
    replaced = policies.replace_policy("p", "m2", {"x": 1}, False, {"alert_event": 3})
    assert (replaced.model, replaced.spec, replaced.enabled) == ("m2", {"x": 1}, False)
    assert replaced.cursors == {"alert_event": 3}
    assert [p.name for p in policies.list_policies()] == ["p"]
    policies.delete_policy("p")
    with pytest.raises(NotFound, match="loopml policies list"):
        policies.get_policy("p")
    with pytest.raises(NotFound):
        policies.replace_policy("p", "m", SPEC, True, {})


def test_one_active_run_per_model_the_second_is_skipped(policies: SqlPolicyStore) -> None:
    policies.create_policy("q", "m", SPEC, True, {})
    first = policies.create_run("p", "m", SPEC, {"type": "manual", "reason": "one"}, {})
    second = policies.create_run("q", "m", SPEC, {"type": "manual", "reason": "two"}, {})
    assert first is not None and second is not None
    assert first.state == "queued" and not first.done
    assert second.state == "skipped" and second.done
    assert f"run {first.id} of policy 'p'" in second.reason
    assert policies.active_run("m") == first
    skipped = policies.list_events(run_id=second.id)
    assert [(e.step, e.status) for e in skipped] == [("trigger", "skipped")]
    assert skipped[0].links["active_run"] == first.id
    # Ending the first run releases the model: the next trigger queues.
    claimed = policies.claim_run(first.id, "w1", 1000, LEASE)
    assert claimed is not None
    done = policies.transition(
        first.id,
        "w1",
        Transition("failed", NewPolicyEvent("training", "failed", "boom"), reason="boom"),
    )
    assert done.done and done.reason == "boom" and done.lease_owner is None
    assert policies.active_run("m") is None
    third = policies.create_run("q", "m", SPEC, {"type": "manual"}, {})
    assert third is not None and third.state == "queued"


def test_cursors_move_once_with_the_run_they_fire(policies: SqlPolicyStore) -> None:
    old, new = {"alert_event": 0}, {"alert_event": 7}
    run = policies.create_run("p", "m", SPEC, {"type": "alert"}, {}, cursors=(old, new))
    assert run is not None
    # A second worker that read the same cursors creates nothing.
    assert policies.create_run("p", "m", SPEC, {"type": "alert"}, {}, cursors=(old, new)) is None
    assert policies.get_policy("p").cursors == new
    assert policies.set_cursors("p", new, {"alert_event": 9})
    assert not policies.set_cursors("p", new, {"alert_event": 10})
    assert len(policies.list_runs(policy="p")) == 1


def test_a_lease_is_held_until_it_expires(policies: SqlPolicyStore) -> None:
    run = policies.create_run("p", "m", SPEC, {"type": "manual"}, {})
    assert run is not None
    assert policies.claim_run(run.id, "w1", 1_000, LEASE) is not None
    assert policies.claim_run(run.id, "w2", 2_000, LEASE) is None  # w1 is alive
    assert policies.heartbeat(run.id, "w1", 50_000)
    assert policies.claim_run(run.id, "w2", 100_000, LEASE) is None  # renewed at 50 s
    taken = policies.claim_run(run.id, "w2", 50_000 + LEASE + 1, LEASE)  # w1 went silent
    assert taken is not None and taken.lease_owner == "w2"
    assert not policies.heartbeat(run.id, "w1", 200_000)
    move = Transition("training", NewPolicyEvent("training", "started", "go"))
    with pytest.raises(InvalidState, match="another worker"):
        policies.transition(run.id, "w1", move)
    moved = policies.transition(
        run.id,
        "w2",
        Transition(
            "training",
            NewPolicyEvent("training", "started", "go"),
            links={"pipeline_run": "abc"},
            details={"x": 1},
        ),
    )
    assert moved.state == "training" and moved.links == {"pipeline_run": "abc"}
    policies.release(run.id, "w2")
    assert policies.get_run(run.id).lease_owner is None
    assert policies.claim_run(run.id, "w3", 0, LEASE) is not None


def test_events_are_listed_oldest_first_per_run_and_policy(policies: SqlPolicyStore) -> None:
    run = policies.create_run(
        "p", "m", SPEC, {"type": "manual", "reason": "go"}, {"dataset": "d@1"}
    )
    assert run is not None
    policies.add_event(run.id, NewPolicyEvent("canary", "progress", "3 requests", {"n": 3}))
    events = policies.list_events(policy="p")
    assert [(e.step, e.status) for e in events] == [("trigger", "queued"), ("canary", "progress")]
    assert events[0].links == {"dataset": "d@1"} and events[0].reason == "go"
    assert policies.list_events(run_id=run.id, limit=1)[0].step == "canary"
    with pytest.raises(NotFound, match="policy run 999"):
        policies.add_event(999, NewPolicyEvent("x", "y", "z"))
    with pytest.raises(NotFound):
        policies.get_run(999)
