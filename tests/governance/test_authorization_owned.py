"""Objects owned through another: monitors and alert rules follow their deployment, policy
runs and events their policy; MLflow creations may name their workspace in a tag.

On top of the authorization world: deployment ``dep-a`` (of model-a, in A) with monitor
``mon-a`` and rule ``rule-a``, policy ``pol-a`` with one queued run; the same on B's side
(``model-b``, ``dep-b``, ``mon-b``, ``rule-b``, ``pol-b``). Alert events are recorded
through the real monitor store (firing one needs a prediction log and windows).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from authz_world import STORES, World, authz_world, served
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from loopml.datasets import Datasets
from loopml.monitoring import Monitors
from loopml.store.monitor_records import NewAlertEvent

SIDES = ("A", "B")


def _in(side: str) -> dict[str, str]:
    return {"X-Loopml-Workspace": side}


def _policy(side: str) -> dict[str, Any]:
    s = side.lower()
    return {
        "name": f"pol-{s}",
        "model": f"model-{s}",
        "deployment": f"dep-{s}",
        "pipeline": "authz_flow:training",
        "holdout": "holdout",
        "target": "label",
        "executor": "inline",
    }


def _seed_owned(world: World, home: Path) -> None:
    holdout = home / "holdout.csv"
    holdout.write_text("x,label\n1,0\n2,1\n")
    Datasets(world.governance.client).register("holdout", holdout)
    world.ok("root", "POST", "/api/v1/registry/models", json={"name": "model-b"}, headers=_in("B"))
    source = f"runs:/{world.ids['run_b']}/model"
    world.ok("root", "POST", "/api/v1/registry/models/model-b/versions", json={"source": source})
    store = Monitors(world.governance.client).store
    for side in SIDES:
        s = side.lower()
        body = {"name": f"dep-{s}", "model_uri": f"models:/model-{s}/1"}
        world.ok("root", "POST", "/api/v1/deployments", json=body, headers=_in(side))
        world.ok(
            "root", "POST", "/api/v1/monitors", json={"name": f"mon-{s}", "deployment": f"dep-{s}"}
        )
        rule = {"name": f"rule-{s}", "monitor": f"mon-{s}", "condition": "accuracy < 0.8"}
        world.ok("root", "POST", "/api/v1/alerts/rules", json=rule)
        world.ok(
            "root", "POST", "/api/v1/policies", json={"policy": _policy(side)}, headers=_in(side)
        )
        run = world.ok("root", "POST", f"/api/v1/policies/pol-{s}/trigger", json={"reason": "test"})
        world.ids[f"policy-run-{s}"] = str(run["run"]["id"])
        store.record_event(
            NewAlertEvent(
                rule=f"rule-{s}",
                monitor=f"mon-{s}",
                deployment=f"dep-{s}",
                metric="accuracy",
                value=0.5,
                condition="accuracy < 0.8",
                window_start=0,
                window_end=1,
                message=f"fired on {s}",
            )
        )


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    home = tmp_path_factory.mktemp("authz-owned")
    with authz_world(home, request.param) as made:
        _seed_owned(made, home)
        yield made


def _refused(world: World, user: str, method: str, url: str, message: str, **kw: Any) -> None:
    answer = world.call(user, method, url, **kw)
    assert answer.status_code == 403, answer.text
    assert message in html.unescape(answer.text)  # a JSON message, or an HTML page for the UI


def test_a_monitor_is_in_its_deployments_workspace(world: World) -> None:
    for url in ("/api/v1/monitors/mon-a", "/api/v1/monitors/mon-a/results", "/monitoring/mon-a"):
        assert world.call("viewer", "GET", url).status_code == 200, url
        _refused(world, "none", "GET", url, "may not read in workspace 'A'")
    for url in ("/api/v1/monitors/mon-b", "/api/v1/monitors/mon-b/report", "/monitoring/mon-b"):
        _refused(world, "maintainer", "GET", url, "may not read in workspace 'B'")


def test_a_maintainer_manages_the_monitors_of_its_deployments(world: World) -> None:
    made = {"name": "mon-a2", "deployment": "dep-a"}
    _refused(
        world, "editor", "POST", "/api/v1/monitors", "may not maintain in workspace 'A'", json=made
    )
    world.ok("maintainer", "POST", "/api/v1/monitors", json=made)
    assert world.ok("viewer", "GET", "/api/v1/monitors/mon-a2")["monitor"]["deployment"] == "dep-a"
    world.ok("maintainer", "POST", "/api/v1/monitors/mon-a2/run", json={})
    _refused(
        world, "editor", "DELETE", "/api/v1/monitors/mon-a2", "may not maintain in workspace 'A'"
    )
    world.ok("maintainer", "DELETE", "/api/v1/monitors/mon-a2")
    assert world.call("viewer", "GET", "/api/v1/monitors/mon-a2").status_code == 404


def test_a_maintainer_cannot_touch_another_workspaces_monitors(world: World) -> None:
    other = {"name": "mon-b2", "deployment": "dep-b"}
    denied = "may not maintain in workspace 'B'"
    _refused(world, "maintainer", "POST", "/api/v1/monitors", denied, json=other)
    _refused(world, "maintainer", "POST", "/api/v1/monitors/mon-b/run", denied, json={})
    _refused(world, "maintainer", "DELETE", "/api/v1/monitors/mon-b", denied)
    assert world.call("root", "GET", "/api/v1/monitors/mon-b2").status_code == 404


def test_alert_rules_follow_their_monitor(world: World) -> None:
    rule = {"name": "rule-a2", "monitor": "mon-a", "condition": "accuracy < 0.7"}
    _refused(
        world,
        "editor",
        "POST",
        "/api/v1/alerts/rules",
        "may not maintain in workspace 'A'",
        json=rule,
    )
    world.ok("maintainer", "POST", "/api/v1/alerts/rules", json=rule)
    assert world.ok("viewer", "GET", "/api/v1/alerts/rules/rule-a2")["rule"]["monitor"] == "mon-a"
    world.ok("maintainer", "PATCH", "/api/v1/alerts/rules/rule-a2", json={"enabled": False})
    world.ok("maintainer", "DELETE", "/api/v1/alerts/rules/rule-a2")
    denied = "may not maintain in workspace 'B'"
    on_b = {"name": "rule-b2", "monitor": "mon-b", "condition": "accuracy < 0.7"}
    _refused(world, "maintainer", "POST", "/api/v1/alerts/rules", denied, json=on_b)
    _refused(
        world, "maintainer", "PATCH", "/api/v1/alerts/rules/rule-b", denied, json={"enabled": False}
    )
    _refused(world, "maintainer", "DELETE", "/api/v1/alerts/rules/rule-b", denied)
    _refused(
        world, "maintainer", "GET", "/api/v1/alerts/rules/rule-b", "may not read in workspace 'B'"
    )


def test_policy_runs_follow_their_policy(world: World) -> None:
    run_a, run_b = world.ids["policy-run-a"], world.ids["policy-run-b"]
    assert world.ok("viewer", "GET", f"/api/v1/policy-runs/{run_a}")["run"]["policy"] == "pol-a"
    _refused(
        world, "maintainer", "GET", f"/api/v1/policy-runs/{run_b}", "may not read in workspace 'B'"
    )
    _refused(world, "none", "GET", f"/api/v1/policy-runs/{run_a}", "may not read in workspace 'A'")


@pytest.mark.parametrize("user", ["none", "viewer", "maintainer", "root"])
def test_listings_hide_other_workspaces(world: World, user: str) -> None:
    sides = {"none": set(), "root": {"a", "b"}}.get(user, {"a"})

    def names(url: str, key: str, field: str) -> set[str]:
        found = {str(item[field]) for item in world.ok(user, "GET", url)[key]}
        return {n for n in found if n[-1] in "ab" and n.count("-") == 1}

    assert names("/api/v1/monitors", "monitors", "name") == {f"mon-{s}" for s in sides}
    only_b = names("/api/v1/monitors?deployment=dep-b", "monitors", "name")
    assert only_b == ({"mon-b"} if "b" in sides else set())
    assert names("/api/v1/alerts/rules", "rules", "name") == {f"rule-{s}" for s in sides}
    assert names("/api/v1/alerts/events", "events", "deployment") == {f"dep-{s}" for s in sides}
    assert names("/api/v1/policy-runs", "runs", "policy") == {f"pol-{s}" for s in sides}
    assert names("/api/v1/policy-events", "events", "policy") == {f"pol-{s}" for s in sides}
    page = world.call(user, "GET", "/monitoring")
    assert page.status_code == 200
    assert ("mon-b" in page.text) == ("b" in sides)
    assert ("fired on b" in page.text) == ("b" in sides)


def test_unknown_or_malformed_owned_objects(world: World) -> None:
    assert world.call("viewer", "GET", "/api/v1/monitors/no-such").status_code == 404
    assert world.call("viewer", "GET", "/api/v1/alerts/rules/no-such").status_code == 404
    assert world.call("viewer", "GET", "/api/v1/policy-runs/999999").status_code == 404
    malformed = world.call("viewer", "GET", "/api/v1/policy-runs/abc")
    assert malformed.status_code == 400
    assert "integers" in malformed.json()["message"]
    missing = world.call("maintainer", "POST", "/api/v1/alerts/rules", json={"name": "r"})
    assert missing.status_code == 400
    nowhere = {"name": "mon-x", "deployment": "no-such-deployment"}
    assert world.call("root", "POST", "/api/v1/monitors", json=nowhere).status_code == 404


# -- the MLflow client names the workspace in a tag -------------------------------------------


@pytest.fixture(scope="module")
def mlflow_url(world: World) -> Iterator[str]:
    with served(world) as url:
        yield url


@pytest.fixture
def editor(world: World, mlflow_url: str, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", world.tokens["editor"])
    return MlflowClient(tracking_uri=mlflow_url)


TAG = "loopml.workspace"


def test_the_mlflow_client_creates_in_the_tagged_workspace(
    world: World, editor: MlflowClient
) -> None:
    experiment_id = editor.create_experiment("tagged-exp", tags={TAG: "A"})
    assert world.governance.workspace_of("experiment", experiment_id) == "A"
    run = editor.create_run(experiment_id)
    editor.log_metric(run.info.run_id, "acc", 0.9)
    editor.create_registered_model("tagged-model", tags={TAG: "A"})
    assert world.governance.workspace_of("registered_model", "tagged-model") == "A"
    assert world.call("viewer", "GET", "/api/v1/registry/models/tagged-model").status_code == 200
    assert world.call("none", "GET", f"/api/v1/experiments/{experiment_id}").status_code == 403


def test_the_mlflow_client_cannot_create_outside_its_workspaces(editor: MlflowClient) -> None:
    with pytest.raises(MlflowException) as other:
        editor.create_experiment("into-b", tags={TAG: "B"})
    assert other.value.error_code == "PERMISSION_DENIED"
    assert "may not write in workspace 'B'" in other.value.message
    with pytest.raises(MlflowException) as untagged:
        editor.create_registered_model("untagged-model")
    assert "may not write in workspace 'default'" in untagged.value.message
    with pytest.raises(MlflowException) as unknown:
        editor.create_experiment("into-nowhere", tags={TAG: "no-such-workspace"})
    assert unknown.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "no-such-workspace" in unknown.value.message


def test_a_tag_and_a_header_naming_different_workspaces_are_refused(world: World) -> None:
    body = {"name": "two-places", "tags": [{"key": TAG, "value": "B"}]}
    url = "/api/2.0/mlflow/experiments/create"
    answer = world.call("root", "POST", url, json=body, headers=_in("A"))
    assert answer.status_code == 400
    assert "several workspaces ('A', 'B')" in answer.json()["message"]
    agreed = world.ok("root", "POST", url, json=body, headers=_in("B"))
    assert world.governance.workspace_of("experiment", agreed["experiment_id"]) == "B"
