"""A worker killed mid-training: the next tick after its lease fails the run cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from policy_world import World

from loopml.automation import Policies

LOOPML = str(Path(sys.executable).with_name("loopml"))
HERE = Path(__file__).parent


def test_a_run_whose_worker_was_killed_during_training_fails_and_frees_the_model(
    world: World,
) -> None:
    world.policies.create(world.policy(params={"sleep": 120.0}))
    run = world.policies.trigger("retrain", reason="before the crash")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(
        LOOPML_HOME=str(world.root / "home"),
        LOOPML_OBJECT_STORE_URI=str(world.root / "objects"),
        LOOPML_CAPTURE_PROVENANCE="false",
        PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]),
    )
    worker = subprocess.Popen(
        [LOOPML, "--tracking-uri", world.client.tracking_uri, "policies", "run-pending"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not any(e.status == "progress" for e in world.policies.events(run_id=run.id)):
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)  # training: the pipeline run has started and sleeps
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    held = world.policies.get_run(run.id)
    assert held.state == "training" and held.lease_owner is not None

    restarted = Policies(world.client, lease_seconds=0.5)
    time.sleep(0.6)  # the dead worker's heartbeat is older than the lease now
    (ended,) = restarted.tick()
    assert ended.id == run.id and ended.state == "failed"
    assert "restarted" in ended.reason and "re-trigger" in ended.reason
    assert ended.links["pipeline_run"]  # recorded when the pipeline run started
    assert world.policies.store.active_run("churn") is None
    assert world.registry.get_model_version_by_alias("churn", "champion").version == 1
    assert world.policies.trigger("retrain", reason="after the crash").state == "queued"
