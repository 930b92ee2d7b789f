"""Policies through a live ``loopml server --scheduler``: REST, the remote SDK, the CLI.

The server's scheduler polls and advances the runs on its own, training in the
server beside its stores; the remote SDK and the CLI see the same runs and
events, and bad input gets the same refusals as embedded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from policy_world import PIPELINE, training_frame

import loopml as lm
from churn_models import FEATURES, classifier
from loopml.automation import Policy, RemotePolicies, open_policies
from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.datasets import Datasets
from loopml.deployments import Deployments
from loopml.registry import Registry
from loopml.tracking import Client
from server.live_server import LiveServer, live_server

LOOPML = str(Path(sys.executable).with_name("loopml"))
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def policy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)]),
        "LOOPML_CAPTURE_PROVENANCE": "false",
    }
    with live_server(
        tmp_path_factory.mktemp("policy-server"),
        extra_args=("--scheduler", "--scheduler-interval", "0.5"),
        extra_env=env,
    ) as running:
        yield running


@pytest.fixture
def remote(policy_server: LiveServer, tmp_path: Path) -> Iterator[Client]:
    client = Client(policy_server.url, settings=Settings(home=tmp_path / "home"))
    yield client
    client.close()


def _cli(server: LiveServer, *args: str, code: int = 0) -> str:
    done = subprocess.run(
        [LOOPML, "--tracking-uri", server.url, "policies", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"LOOPML_HOME": str(server.home / "cli"), "PATH": "/usr/bin:/bin", "COLUMNS": "250"},
    )
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout + done.stderr


def test_the_server_runs_policies_for_remote_clients(
    policy_server: LiveServer, remote: Client, tmp_path: Path
) -> None:
    for name, frame in (("churn-train", training_frame(0)), ("churn-holdout", training_frame(1))):
        frame.to_parquet(tmp_path / f"{name}.parquet")  # type: ignore[attr-defined]
        Datasets(remote).register(name, tmp_path / f"{name}.parquet")
    weak = training_frame(0)
    info = lm.log_model(
        classifier(weak, weak=True),  # type: ignore[arg-type]
        "model",
        input_example=weak[FEATURES].head(5),  # type: ignore[index]
        registered_model_name="churn",
        client=remote,
    )
    Registry(remote).set_alias("churn", "champion", int(info.registered_model_version or 0))
    Deployments(remote).create("churn", "models:/churn@champion")

    policies = open_policies(remote)
    assert isinstance(policies, RemotePolicies)
    policy = Policy(
        name="retrain",
        model="churn",
        deployment="churn",
        pipeline=PIPELINE,
        params={"weak": True},
        model_output="model",
        holdout="churn-holdout",
        target="churned",
        gates=["min:roc_auc:0.6"],
        executor="inline",
    )
    assert policies.create(policy) == policy
    assert policies.list() == [policy]
    with pytest.raises(NotFound, match="nobody"):
        policies.create(Policy.from_dict({**policy.to_dict(), "name": "x", "model": "nobody"}))

    assert "queued" in _cli(policy_server, "trigger", "retrain", "--reason", "over http")
    deadline = time.monotonic() + 90
    while not (runs := policies.runs("retrain"))[0].done:  # the server's scheduler runs it
        assert time.monotonic() < deadline, policies.events("retrain")
        time.sleep(0.3)
    (run,) = runs
    assert run.state == "failed" and run.reason.startswith("gates failed: min_metric:roc_auc")
    assert policies.get_run(run.id) == run
    events = policies.events("retrain")
    assert [e.step for e in events] == ["trigger", "training", "training", "training", "gates"]
    assert events[-1].links["pipeline_run"] == run.links["pipeline_run"]
    assert remote.get_run(run.links["evaluation_run"]).data.metrics["roc_auc"] > 0
    assert "over http" in _cli(policy_server, "history", "retrain")
    assert policies.tick() == []  # nothing left to advance

    policies.update(Policy.from_dict({**policy.to_dict(), "params": {}}))
    assert policies.get("retrain").params == {}
    policies.apply(Policy.from_dict({**policy.to_dict(), "enabled": False}))
    with pytest.raises(InvalidArgument, match="disabled"):
        policies.trigger("retrain")
    bad = httpx.post(
        f"{policy_server.url}/api/v1/policies", json={"policy": {**policy.to_dict(), "x": 1}}
    )
    assert bad.status_code == 400 and "Unknown policy field(s) 'x'" in bad.json()["message"]
    policies.delete("retrain")
    assert "No policy named 'retrain'" in _cli(policy_server, "show", "retrain", code=1)
