"""Each role against each kind of operation, on objects of its workspace (A) and another (B).

Through the real app with real API tokens on SQLite. A refusal is a 403 naming
the action and the workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count

import httpx
import pytest
from authz_world import ROLES, STORES, World, authz_world

RANK = {"none": 0, "viewer": 1, "editor": 2, "maintainer": 3, "wsadmin": 4}
VIEWER, EDITOR, MAINTAINER, ADMIN = 1, 2, 3, 4
_unique = count()

Operation = Callable[[World, str, str], httpx.Response]


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with authz_world(tmp_path_factory.mktemp("authz-matrix"), request.param) as made:
        yield made


def _exp(side: str) -> str:
    return f"exp-{side.lower()}"


def _run(side: str) -> str:
    return f"run_{side.lower()}"


def read_run(w: World, user: str, side: str) -> httpx.Response:
    return w.call(user, "GET", f"/api/v1/runs/{w.ids[_run(side)]}")


def search_runs(w: World, user: str, side: str) -> httpx.Response:
    body = {"experiment_ids": [w.ids[_exp(side)]]}
    return w.call(user, "POST", "/api/v1/runs/search", json=body)


def mlflow_search_runs(w: World, user: str, side: str) -> httpx.Response:
    body = {"experiment_ids": [w.ids[_exp(side)]]}
    return w.call(user, "POST", "/api/2.0/mlflow/runs/search", json=body)


def download_artifact(w: World, user: str, side: str) -> httpx.Response:
    return w.call(user, "GET", f"/api/v1/runs/{w.ids[_run(side)]}/artifacts/model/model.txt")


def mlflow_download_artifact(w: World, user: str, side: str) -> httpx.Response:
    path = f"{w.ids[_exp(side)]}/{w.ids[_run(side)]}/artifacts/model/model.txt"
    return w.call(user, "GET", f"/api/2.0/mlflow-artifacts/artifacts/{path}")


def log_metric(w: World, user: str, side: str) -> httpx.Response:
    metric = {"key": "acc", "value": 0.9, "timestamp": 2, "step": 1}
    return w.call(
        user, "POST", f"/api/v1/runs/{w.ids[_run(side)]}/batch", json={"metrics": [metric]}
    )


def mlflow_log_metric(w: World, user: str, side: str) -> httpx.Response:
    body = {"run_id": w.ids[_run(side)], "key": "acc", "value": 0.9, "timestamp": 2}
    return w.call(user, "POST", "/api/2.0/mlflow/runs/log-metric", json=body)


def create_experiment(w: World, user: str, side: str) -> httpx.Response:
    body = {"name": f"new-{user}-{side}-{next(_unique)}"}
    return w.call(
        user, "POST", "/api/v1/experiments", json=body, headers={"X-Loopml-Workspace": side}
    )


def mlflow_create_experiment(w: World, user: str, side: str) -> httpx.Response:
    body = {"name": f"ml-{user}-{side}-{next(_unique)}"}
    headers = {"X-Loopml-Workspace": side}
    return w.call(user, "POST", "/api/2.0/mlflow/experiments/create", json=body, headers=headers)


def register_version(w: World, user: str, side: str) -> httpx.Response:
    # Into model-a (in A), from a run of ``side``: B's run may not be read by A's members.
    body = {"source": f"runs:/{w.ids[_run(side)]}/model"}
    return w.call(user, "POST", "/api/v1/registry/models/model-a/versions", json=body)


def move_alias(w: World, user: str, side: str) -> httpx.Response:
    name = "model-a" if side == "A" else "model-b"
    return w.call(
        user, "PUT", f"/api/v1/registry/models/{name}/aliases/champion", json={"version": 1}
    )


def delete_run(w: World, user: str, side: str) -> httpx.Response:
    made = w.ok("root", "POST", "/api/v1/runs", json={"experiment_id": w.ids[_exp(side)]})
    return w.call(user, "DELETE", f"/api/v1/runs/{made['run']['info']['run_id']}")


def read_version_from_other_workspace(w: World, user: str, side: str) -> httpx.Response:
    # model-a version 2 was registered from run_b (in B): reading it is reading model-a.
    name = "model-a" if side == "A" else "model-b"
    return w.call(user, "GET", f"/api/v1/registry/models/{name}/versions/{1 if side == 'B' else 2}")


def download_version_file(w: World, user: str, side: str) -> httpx.Response:
    name = "model-a" if side == "A" else "model-b"
    return w.call(user, "GET", f"/api/v1/registry/models/{name}/versions/1/files/model.txt")


OPERATIONS: dict[str, tuple[Operation, int, str]] = {
    "read run": (read_run, VIEWER, "read"),
    "search runs": (search_runs, VIEWER, "read"),
    "search runs (mlflow)": (mlflow_search_runs, VIEWER, "read"),
    "download artifact by run id": (download_artifact, VIEWER, "read"),
    "download artifact (mlflow proxy)": (mlflow_download_artifact, VIEWER, "read"),
    "read version sourced from B": (read_version_from_other_workspace, VIEWER, "read"),
    "download version file": (download_version_file, VIEWER, "read"),
    "log metric": (log_metric, EDITOR, "write"),
    "log metric (mlflow)": (mlflow_log_metric, EDITOR, "write"),
    "create experiment": (create_experiment, EDITOR, "write"),
    "create experiment (mlflow)": (mlflow_create_experiment, EDITOR, "write"),
    "register model version": (register_version, EDITOR, "write"),
    "move alias": (move_alias, MAINTAINER, "maintain"),
    "delete run": (delete_run, MAINTAINER, "maintain"),
}


@pytest.fixture(scope="module")
def model_b(world: World) -> None:
    world.ok(
        "root",
        "POST",
        "/api/v1/registry/models",
        json={"name": "model-b"},
        headers={"X-Loopml-Workspace": "B"},
    )
    source = f"runs:/{world.ids['run_b']}/model"
    world.ok("root", "POST", "/api/v1/registry/models/model-b/versions", json={"source": source})


@pytest.mark.usefixtures("model_b")
@pytest.mark.parametrize("user", ROLES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_role_in_its_workspace(world: World, operation: str, user: str) -> None:
    do, needed, action = OPERATIONS[operation]
    answer = do(world, user, "A")
    if RANK[user] >= needed:
        assert answer.status_code < 300, answer.text
    else:
        assert answer.status_code == 403, answer.text
        message = answer.json()["message"]
        assert f"may not {action} in workspace 'A'" in message


@pytest.mark.usefixtures("model_b")
@pytest.mark.parametrize("user", ROLES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_no_role_in_the_other_workspace(world: World, operation: str, user: str) -> None:
    do, needed, action = OPERATIONS[operation]
    answer = do(world, user, "B")
    assert answer.status_code == 403, answer.text
    expected = f"may not {action} in workspace 'B'"
    if operation == "register model version":
        # Into A's model from B's run: write in A, then read in B, are both needed.
        expected = (
            "may not read in workspace 'B'"
            if RANK[user] >= needed
            else ("may not write in workspace 'A'")
        )
    assert expected in answer.json()["message"]


@pytest.mark.usefixtures("model_b")
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_global_admin_may_do_everything(world: World, operation: str) -> None:
    do, _, _ = OPERATIONS[operation]
    for side in ("A", "B"):
        answer = do(world, "root", side)
        assert answer.status_code < 300, answer.text


def test_the_source_run_of_a_readable_version_stays_unreadable(world: World) -> None:
    version = world.ok("viewer", "GET", "/api/v1/registry/models/model-a/versions/2")
    assert version["model_version"]["run_id"] == world.ids["run_b"]
    answer = world.call("viewer", "GET", f"/api/v1/runs/{world.ids['run_b']}")
    assert answer.status_code == 403


def test_a_created_experiment_belongs_to_the_requested_workspace(world: World) -> None:
    made = world.ok(
        "editor",
        "POST",
        "/api/v1/experiments",
        json={"name": "owned-by-a"},
        headers={"X-Loopml-Workspace": "A"},
    )
    assert world.governance.workspace_of("experiment", made["experiment_id"]) == "A"
    refused = world.call("none", "GET", f"/api/v1/experiments/{made['experiment_id']}")
    assert refused.status_code == 403


def test_creating_in_an_unknown_workspace_is_a_404(world: World) -> None:
    answer = world.call(
        "root",
        "POST",
        "/api/v1/experiments",
        json={"name": "nowhere"},
        headers={"X-Loopml-Workspace": "no-such-workspace"},
    )
    assert answer.status_code == 404
    assert "no-such-workspace" in answer.json()["message"]
    assert world.call("root", "GET", "/api/v1/experiments/by-name?name=nowhere").status_code == 404


@pytest.mark.parametrize("user", ROLES)
def test_searches_list_only_readable_workspaces(world: World, user: str) -> None:
    expected = {"exp-a"} if RANK[user] >= VIEWER else set()
    native = world.ok(user, "GET", "/api/v1/experiments?max_results=1000")
    names = {e["name"] for e in native["experiments"]}
    assert {"exp-a", "exp-b"} & names == expected
    mlflow = world.ok(user, "GET", "/api/2.0/mlflow/experiments/search?max_results=1000")
    names = {e["name"] for e in mlflow.get("experiments", [])}
    assert {"exp-a", "exp-b"} & names == expected
    models = world.ok(user, "GET", "/api/v1/registry/models")
    names = {m["name"] for m in models["registered_models"]}
    assert {"model-a", "model-b"} & names == ({"model-a"} if expected else set())
    versions = world.ok(user, "GET", "/api/v1/registry/versions")
    assert {v["name"] for v in versions["model_versions"]} <= {"model-a"}


def test_search_pages_are_full_of_visible_experiments(world: World) -> None:
    # The filter is in the query: a page of 1 holds a visible experiment, not a hidden one.
    page = world.ok("viewer", "GET", "/api/v1/experiments?max_results=1")
    assert [e["name"] for e in page["experiments"]] != ["exp-b"]
    assert len(page["experiments"]) == 1


@pytest.mark.parametrize("user", ["none", "viewer", "editor", "maintainer"])
def test_managing_members_needs_administer(world: World, user: str) -> None:
    answer = world.call(user, "PUT", "/api/v1/workspaces/A/members/none", json={"role": "viewer"})
    assert answer.status_code == 403
    assert "may not administer in workspace 'A'" in answer.json()["message"]


def test_a_workspace_admin_passes_authorization_for_members(world: World) -> None:
    answer = world.call("wsadmin", "GET", "/api/v1/workspaces/A/members")
    # The table lets A's admins manage A's members; refused here only by the handler's
    # own global-admin check (see the report), never by "may not administer".
    assert "may not administer" not in answer.text
    refused = world.call("wsadmin", "GET", "/api/v1/workspaces/B/members")
    assert refused.status_code == 403
    assert "may not administer in workspace 'B'" in refused.json()["message"]


def test_ui_pages_follow_the_same_rules(world: World) -> None:
    assert world.call("viewer", "GET", f"/runs/{world.ids['run_a']}").status_code == 200
    refused = world.call("viewer", "GET", f"/runs/{world.ids['run_b']}")
    assert refused.status_code == 403
    page = world.call("viewer", "GET", "/experiments")
    assert page.status_code == 200
    assert "exp-a" in page.text
    assert "exp-b" not in page.text
    promote = world.call("editor", "POST", "/models/model-a/promote", data={"version": "1"})
    assert promote.status_code == 403  # an HTML error page naming the refusal
    assert "may not maintain in workspace" in promote.text
