"""The native registry API (``/api/v1/registry``) over real HTTP: routes, gates, errors."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from live_server import LiveServer

API = "/api/v1"
MANIFEST = {
    "artifact_path": "model",
    "signature": {
        "inputs": json.dumps([{"type": "double", "name": "x"}, {"type": "long", "name": "y"}]),
        "outputs": json.dumps([{"type": "double"}]),
    },
}


@pytest.fixture
def http(server: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=server.url + API, timeout=30) as session:
        yield session


def _name() -> str:
    return f"model-{uuid.uuid4().hex[:8]}"


def _model_run(http: httpx.Client, accuracy: float, weights: bytes = b"w") -> str:
    """A run with a model folder (manifest with a signature, weights) and an accuracy."""
    run_id = http.post("/runs", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    manifest = json.dumps(MANIFEST).encode()  # JSON is YAML
    for path, content in (("model/MLmodel", manifest), ("model/weights.bin", weights)):
        assert http.put(f"/runs/{run_id}/artifacts/{path}", content=content).is_success
    metric = {"key": "accuracy", "value": accuracy, "timestamp": 1}
    assert http.post(f"/runs/{run_id}/batch", json={"metrics": [metric]}).is_success
    return run_id


def _version(http: httpx.Client, name: str, run_id: str, **fields: object) -> dict:
    body = {"source": f"runs:/{run_id}/model", **fields}
    response = http.post(f"/registry/models/{name}/versions", json=body)
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    return str(response.json()["message"])


def test_registered_models(http: httpx.Client) -> None:
    name = _name()
    created = http.post(
        "/registry/models", json={"name": name, "description": "d", "tags": {"team": "risk"}}
    ).json()["registered_model"]
    assert (created["name"], created["tags"], created["aliases"]) == (name, {"team": "risk"}, {})
    _error(http.post("/registry/models", json={"name": name}), 409, "RESOURCE_ALREADY_EXISTS")
    assert http.patch(f"/registry/models/{name}", json={"description": "new"}).is_success
    assert http.post(f"/registry/models/{name}/tags", json={"key": "tier", "value": "1"})
    assert http.delete(f"/registry/models/{name}/tags/tier").is_success
    _error(http.delete(f"/registry/models/{name}/tags/tier"), 404, "RESOURCE_DOES_NOT_EXIST")
    renamed = http.post(f"/registry/models/{name}/rename", json={"new_name": name + "-x"})
    assert renamed.json()["registered_model"]["description"] == "new"
    found = http.get("/registry/models", params={"filter": f"name = '{name}-x'"}).json()
    assert [m["name"] for m in found["registered_models"]] == [name + "-x"]
    assert found["next_page_token"] is None
    page = http.get("/registry/models", params={"max_results": 1}).json()
    assert len(page["registered_models"]) == 1
    assert http.delete(f"/registry/models/{name}-x").is_success
    _error(http.get(f"/registry/models/{name}-x"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_versions_files_and_search(http: httpx.Client) -> None:
    name = _name()
    run_id = _model_run(http, 0.8, weights=b"weights v1")
    version = _version(http, name, run_id, description="first", tags={"k": "v"}, user="alice")
    assert (version["version"], version["run_id"], version["user"]) == (1, run_id, "alice")
    assert version["signature"] == MANIFEST["signature"]
    files = http.get(f"/registry/models/{name}/versions/1/files").json()["files"]
    assert [f["path"] for f in files] == ["MLmodel", "weights.bin"]
    download = http.get(f"/registry/models/{name}/versions/1/files/weights.bin")
    assert download.content == b"weights v1"
    assert download.headers["etag"] == f'"{files[1]["blob_id"]}"'
    _error(
        http.get(f"/registry/models/{name}/versions/1/files/x%2F..%2Fweights.bin"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    # Overwriting the run's file changes nothing in the version.
    assert http.put(f"/runs/{run_id}/artifacts/model/weights.bin", content=b"v2").is_success
    again = http.get(f"/registry/models/{name}/versions/1/files/weights.bin")
    assert again.content == b"weights v1"
    _version(http, name, run_id)
    updated = http.patch(f"/registry/models/{name}/versions/2", json={"description": "x"})
    assert updated.json()["model_version"]["description"] == "x"
    assert http.post(f"/registry/models/{name}/versions/2/tags", json={"key": "a", "value": "b"})
    params = {"filter": f"name = '{name}' AND tags.a = 'b'"}
    found = http.get("/registry/versions", params=params).json()["model_versions"]
    assert [v["version"] for v in found] == [2]
    ordered = http.get(
        "/registry/versions",
        params={"filter": f"name = '{name}'", "order_by": ["version_number ASC"]},
    ).json()["model_versions"]
    assert [v["version"] for v in ordered] == [1, 2]
    assert http.delete(f"/registry/models/{name}/versions/2/tags/a").is_success
    staged = http.post(
        f"/registry/models/{name}/versions/1/stage", json={"stage": "production"}
    ).json()["model_version"]
    assert staged["stage"] == "Production"
    latest = http.get(f"/registry/models/{name}/latest-versions", params={"stages": ["Production"]})
    assert [v["version"] for v in latest.json()["model_versions"]] == [1]
    resolved = http.get("/registry/resolve", params={"uri": f"models:/{name}/latest"})
    assert resolved.json()["model_version"]["version"] == 2
    assert http.delete(f"/registry/models/{name}/versions/2").is_success
    _error(http.get(f"/registry/models/{name}/versions/2"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_aliases_promotion_and_rollback(http: httpx.Client) -> None:
    name = _name()
    for accuracy in (0.8, 0.7, 0.9):
        _version(http, name, _model_run(http, accuracy))
    alias = f"/registry/models/{name}/aliases/champion"
    event = http.put(alias, json={"version": 1, "reason": "baseline", "user": "ops"}).json()
    assert event["event"]["version"] == 1 and event["event"]["user"] == "ops"
    gates = [{"type": "metric", "metric": "accuracy"}, {"type": "signature"}]
    refused = http.post(
        f"/registry/models/{name}/promote", json={"version": 2, "gates": gates}
    ).json()["result"]
    assert refused["promoted"] is False and refused["previous_version"] == 1
    assert [g["passed"] for g in refused["gate_results"]] == [False, True]
    body = {"version": 2, "gates": gates, "raise_on_failure": True}
    message = _error(http.post(f"/registry/models/{name}/promote", json=body), 409, "INVALID_STATE")
    assert "accuracy" in message
    assert http.get(alias).json()["model_version"]["version"] == 1
    promoted = http.post(
        f"/registry/models/{name}/promote",
        json={"version": 3, "gates": gates, "reason": "better", "user": "bob"},
    ).json()["result"]
    assert promoted["promoted"] is True
    assert http.get(alias).json()["model_version"]["aliases"] == ["champion"]
    stale = {"version": 2, "expected": {"version": 1}}
    _error(http.put(alias, json=stale), 400, "INVALID_STATE")
    _error(http.delete(f"/registry/models/{name}/versions/3"), 400, "INVALID_STATE")
    _error(http.delete(f"/registry/models/{name}"), 400, "INVALID_STATE")
    back = http.post(f"{alias}/rollback", json={"reason": "regression"}).json()["model_version"]
    assert back["version"] == 1
    history = http.get(
        f"/registry/models/{name}/alias-history", params={"alias": "champion"}
    ).json()["events"]
    assert [(e["version"], e["action"], e["user"]) for e in history] == [
        (1, "set", "ops"),
        (3, "promote", "bob"),
        (1, "rollback", history[2]["user"]),
    ]
    assert history[2]["reason"] == "regression"
    deleted = http.delete(alias, params={"reason": "retire"}).json()["event"]
    assert (deleted["version"], deleted["previous_version"]) == (None, 1)
    _error(http.get(alias), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/registry/models/nope-0", None, 404),
        ("POST", "/registry/models", {"name": "a/b"}, 400),
        ("POST", "/registry/models", {"name": "a:b"}, 400),
        ("POST", "/registry/models", {"name": ""}, 400),
        ("POST", "/registry/models", {"name": "ok", "extra": 1}, 400),
        ("GET", "/registry/models/x/versions/abc", None, 400),
        ("GET", "/registry/models/x/versions/99999999999999999999", None, 404),
        ("GET", "/registry/models?filter=name%20%3E%201", None, 400),
        ("GET", "/registry/models?max_results=5000", None, 400),
        ("GET", "/registry/versions?order_by=run_id", None, 400),
        ("GET", "/registry/versions?page_token=garbage", None, 400),
        ("POST", "/registry/models/x/versions", {"source": "http://evil.example/x"}, 400),
        ("POST", "/registry/models/x/versions", {"source": "runs:/" + "0" * 32 + "/m"}, 404),
        ("PUT", "/registry/models/x/aliases/latest", {"version": 1}, 400),
        ("PUT", "/registry/models/x/aliases/champion", {"version": "1"}, 400),
        ("POST", "/registry/models/x/promote", {"version": 1, "gates": [{"type": "x"}]}, 400),
        ("DELETE", "/registry/models/x/aliases/champion?expected=soon", None, 400),
        ("GET", "/registry/resolve?uri=models:/x", None, 400),
        ("POST", "/registry/models/x/versions/1/stage", {"stage": "Prod"}, 400),
    ],
)
def test_bad_requests_are_4xx(
    http: httpx.Client, method: str, path: str, body: object, status: int
) -> None:
    response = http.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_a_failed_version_creation_creates_no_model(http: httpx.Client) -> None:
    name = _name()
    empty_run = http.post("/runs", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    response = http.post(f"/registry/models/{name}/versions", json={"source": f"runs:/{empty_run}"})
    assert "no artifacts" in _error(response, 400, "INVALID_PARAMETER_VALUE")
    _error(http.get(f"/registry/models/{name}"), 404, "RESOURCE_DOES_NOT_EXIST")
