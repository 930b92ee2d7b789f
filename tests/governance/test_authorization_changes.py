"""Membership changes count from the next request; the MLflow client meets the same rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from authz_world import STORES, World, authz_world, served
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


@pytest.fixture(params=STORES)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with authz_world(tmp_path, request.param) as made:
        yield made


def _log(world: World, user: str) -> int:
    metric = {"key": "acc", "value": 1.0, "timestamp": 1, "step": 0}
    url = f"/api/v1/runs/{world.ids['run_a']}/batch"
    return world.call(user, "POST", url, json={"metrics": [metric]}).status_code


def test_a_removed_member_is_refused_on_the_next_request(world: World) -> None:
    url = f"/api/v1/runs/{world.ids['run_a']}"
    assert world.call("viewer", "GET", url).status_code == 200
    world.governance.remove_member("A", "viewer")
    refused = world.call("viewer", "GET", url)
    assert refused.status_code == 403
    assert "may not read in workspace 'A' (no role there)" in refused.json()["message"]
    listed = world.ok("viewer", "GET", "/api/v1/experiments")
    assert "exp-a" not in {e["name"] for e in listed["experiments"]}


def test_a_role_change_counts_from_the_next_request(world: World) -> None:
    assert _log(world, "viewer") == 403
    world.governance.add_member("A", "viewer", "editor")
    assert _log(world, "viewer") == 200
    world.governance.add_member("A", "viewer", "viewer")
    assert _log(world, "viewer") == 403


def test_a_renamed_model_stays_in_its_workspace(world: World) -> None:
    world.ok(
        "maintainer", "POST", "/api/v1/registry/models/model-a/rename", json={"new_name": "m2"}
    )
    assert world.governance.workspace_of("registered_model", "m2") == "A"
    assert world.call("viewer", "GET", "/api/v1/registry/models/m2").status_code == 200
    assert world.call("none", "GET", "/api/v1/registry/models/m2").status_code == 403


def test_a_failed_create_assigns_nothing(world: World) -> None:
    # model-a exists in A: creating it again from B is checked in A, and moves nothing.
    world.governance.add_member("B", "editor", "editor")
    answer = world.call(
        "editor",
        "POST",
        "/api/v1/registry/models",
        json={"name": "model-a"},
        headers={"X-Loopml-Workspace": "B"},
    )
    assert answer.status_code == 409
    assert world.governance.workspace_of("registered_model", "model-a") == "A"


@pytest.fixture
def mlflow_url(world: World) -> Iterator[str]:
    with served(world) as url:
        yield url


def test_the_mlflow_client_reads_only_its_workspace(
    world: World, mlflow_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", world.tokens["viewer"])
    client = MlflowClient(tracking_uri=mlflow_url)
    assert client.get_run(world.ids["run_a"]).info.run_id == world.ids["run_a"]
    with pytest.raises(MlflowException) as refused:
        client.get_run(world.ids["run_b"])
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert "may not read in workspace 'B'" in refused.value.message
    names = {e.name for e in client.search_experiments()}
    assert "exp-a" in names
    assert "exp-b" not in names
    with pytest.raises(MlflowException) as cannot_write:
        client.log_metric(world.ids["run_a"], "acc", 0.5)
    assert "may not write in workspace 'A'" in cannot_write.value.message


def test_the_mlflow_client_logs_as_an_editor(
    world: World, mlflow_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", world.tokens["editor"])
    client = MlflowClient(tracking_uri=mlflow_url)
    client.log_metric(world.ids["run_a"], "acc", 0.5)
    assert [m.value for m in client.get_metric_history(world.ids["run_a"], "acc")] == [0.5]
    with pytest.raises(MlflowException):
        client.log_metric(world.ids["run_b"], "acc", 0.5)
