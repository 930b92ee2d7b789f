"""Policy runs with real pipelines (inline executor): gates, failures, the lock, the canary."""

from __future__ import annotations

import time

import pytest
from policy_world import World, training_frame

from loopml.automation import Policies
from loopml.core.clock import now_ms
from loopml.core.errors import InvalidState, NotFound
from loopml.pipelines import get_pipeline_run


def _steps(world: World, run_id: int) -> list[tuple[str, str]]:
    return [(e.step, e.status) for e in world.policies.events(run_id=run_id)]


def test_a_failing_gate_ends_the_run_and_leaves_the_champion(world: World) -> None:
    world.policies.create(
        world.policy(params={"weak": True}, gates=["min:roc_auc:0.6", "signature"])
    )
    run = world.policies.trigger("retrain", reason="weekly check")
    busy = world.policies.trigger("retrain", reason="impatient")
    assert run.state == "queued" and busy.state == "skipped"
    assert f"busy with run {run.id}" in busy.reason

    (ended,) = world.policies.tick()
    assert ended.id == run.id and ended.state == "failed"
    assert ended.reason.startswith("gates failed: min_metric:roc_auc")
    assert _steps(world, run.id) == [
        ("trigger", "queued"),
        ("training", "started"),
        ("training", "progress"),
        ("training", "passed"),
        ("gates", "failed"),
    ]
    gates = {g["gate"]: g["passed"] for g in ended.details["gates"]}
    assert gates == {"min_metric:roc_auc": False, "signature": True}
    assert ended.links["previous_champion"] == 1
    assert "dataset" not in ended.links  # no training data named: the pipeline chooses
    evaluation = world.client.get_run(ended.links["evaluation_run"])
    assert evaluation.data.metrics["roc_auc"] == pytest.approx(0.5)
    assert evaluation.data.tags["mlflow.parentRunId"] == ended.links["pipeline_run"]
    assert world.registry.get_model_version_by_alias("churn", "champion").version == 1
    assert [v.version for v in world.registry.list_model_versions("churn")] == [1]
    assert world.deployments.get("churn").canary_uri is None
    # The model is free again: the next trigger queues a run.
    assert world.policies.trigger("retrain").state == "queued"


def test_a_failing_pipeline_is_recorded_with_its_error(world: World) -> None:
    world.policies.create(world.policy(pipeline="policy_flows:broken"))
    run = world.policies.trigger("retrain")
    (ended,) = world.policies.tick()
    assert ended.state == "failed"
    assert ended.reason.startswith("the pipeline failed: Step 'train' failed")
    assert "TypeError" in ended.reason
    assert get_pipeline_run(ended.links["pipeline_run"]).status == "FAILED"
    assert _steps(world, run.id)[-1] == ("training", "failed")
    assert world.registry.get_model_version_by_alias("churn", "champion").version == 1


def test_a_new_dataset_version_trains_registers_and_starts_the_canary(world: World) -> None:
    world.policies.create(world.policy(triggers=[{"type": "dataset", "name": "churn-train"}]))
    assert world.policies.poll_triggers() == []  # version 1 existed before the policy
    world.register_data("churn-train", training_frame(seed=5))
    (run,) = world.policies.poll_triggers()
    assert run.trigger["type"] == "dataset" and run.links == {"dataset": "churn-train@2"}
    assert world.policies.poll_triggers() == []  # that version fired once

    (moved,) = world.policies.tick()
    assert moved.state == "canary" and moved.lease_owner is None
    assert get_pipeline_run(moved.links["pipeline_run"]).params["dataset"] == "churn-train@2"
    assert moved.links["model_version"] == 2
    assert world.registry.get_model_version_by_alias("churn", "challenger").version == 2
    assert world.registry.get_model_version_by_alias("churn", "champion").version == 1
    deployment = world.deployments.get("churn")
    assert (deployment.canary_uri, deployment.canary_weight) == ("models:/churn@challenger", 0.5)
    version = world.registry.get_model_version("churn", 2)
    assert version.tags["loopml.policy.run"] == str(run.id)
    assert _steps(world, run.id)[-3:] == [
        ("registration", "done"),
        ("canary", "started"),
        ("canary", "progress"),
    ]
    with pytest.raises(InvalidState, match="active run"):
        world.policies.delete("retrain")
    # No traffic: the next ticks wait, without a new event each time.
    before = len(world.policies.events("retrain"))
    assert world.policies.tick()[0].state == "canary"
    assert len(world.policies.events("retrain")) == before


def test_policies_are_listed_replaced_and_deleted(world: World) -> None:
    created = world.policies.create(world.policy())
    assert world.policies.get("retrain") == created
    assert world.policies.list() == [created]
    changed = world.policies.update(world.policy(enabled=False, params={"weak": True}))
    assert world.policies.get("retrain").params == {"weak": True}
    assert changed.enabled is False
    with pytest.raises(InvalidState, match="disabled"):
        world.policies.trigger("retrain")
    world.policies.delete("retrain")
    with pytest.raises(NotFound):
        world.policies.get("retrain")
    assert world.policies.apply(world.policy()).enabled is True


def test_a_canary_whose_worker_died_resumes_after_its_lease(world: World) -> None:
    world.policies.create(world.policy())
    run = world.policies.trigger("retrain")
    assert world.policies.tick()[0].state == "canary"
    # A worker takes the run and dies without a word.
    assert world.policies.store.claim_run(run.id, "dead-worker", now_ms(), 60_000) is not None
    impatient = Policies(world.client, lease_seconds=0.2)
    assert impatient.tick() == []  # its lease is still live
    time.sleep(0.3)
    (resumed,) = impatient.tick()
    assert (resumed.id, resumed.state, resumed.lease_owner) == (run.id, "canary", None)


def test_a_holdout_the_candidate_cannot_be_scored_on_fails_the_evaluation(world: World) -> None:
    unlabelled = training_frame(seed=2).drop(columns=["churned"])  # type: ignore[attr-defined]
    world.register_data("no-labels", unlabelled)
    world.policies.create(world.policy(holdout="no-labels"))
    world.policies.trigger("retrain")
    (ended,) = world.policies.tick()
    assert ended.state == "failed"
    assert ended.reason.startswith("the evaluation failed: The data has no target column")
    evaluation = world.client.get_run(ended.links["evaluation_run"])
    assert evaluation.info.status == "FAILED"
    assert [v.version for v in world.registry.list_model_versions("churn")] == [1]
