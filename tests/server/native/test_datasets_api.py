"""The native datasets API (``/api/v1/datasets``, ``/dataset-content``) over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer
from mlflow.tracking import MlflowClient

import loopml as lm
from loopml.core.hashing import hash_bytes
from loopml.core.settings import Settings

API = "/api/v1"


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + API, timeout=30) as session:
        yield session


def _name() -> str:
    return f"data-{uuid.uuid4().hex[:8]}"


def _upload(http: httpx.Client, data: bytes) -> str:
    object_id = hash_bytes(data)
    answer = http.put(f"/dataset-content/objects/{object_id}", content=data)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": object_id, "size": len(data)}
    return object_id


def _version(content_id: str, kind: str, size: int, files: int, **extra: object) -> dict:
    body = {"content_id": content_id, "kind": kind, "size": size, "files": files}
    return body | {"source": "/somewhere"} | extra


def test_register_by_hand_upload_tree_version(http: httpx.Client) -> None:
    name = _name()
    a, b = b"first file", b"second file"
    assert http.post("/dataset-content/missing", json={"ids": [hash_bytes(a)]}).json() == {
        "missing": [hash_bytes(a)]
    }
    ids = [_upload(http, a), _upload(http, b)]
    assert http.post("/dataset-content/missing", json={"ids": ids}).json() == {"missing": []}
    entries = {"x/a.txt": {"id": ids[0], "size": len(a)}, "b.txt": {"id": ids[1], "size": len(b)}}
    tree_id = http.post("/dataset-content/trees", json={"entries": entries}).json()["tree_id"]
    body = _version(tree_id, "dir", len(a) + len(b), 2, schema=None, tags={"k": "v"})
    created = http.post(f"/datasets/{name}/versions", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True
    version = created.json()["dataset_version"]
    assert (version["version"], version["tags"], version["kind"]) == (1, {"k": "v"}, "dir")
    again = http.post(f"/datasets/{name}/versions", json=body)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["dataset_version"] == version
    assert http.get(f"/datasets/{name}/versions/latest").json()["dataset_version"] == version
    assert http.get(f"/datasets/{name}/versions/1").json()["dataset_version"] == version
    assert http.get(f"/datasets/{name}/versions").json()["dataset_versions"] == [version]
    listed = {d["name"]: d for d in http.get("/datasets").json()["datasets"]}
    assert listed[name]["latest"] == version


def test_content_must_be_stored_whole_before_a_version(http: httpx.Client) -> None:
    name = _name()
    absent = hash_bytes(b"never uploaded " + name.encode())
    refused = http.post(f"/datasets/{name}/versions", json=_version(absent, "file", 3, 1))
    assert refused.status_code == 400 and "not stored" in refused.json()["message"]
    present = _upload(http, b"abc")
    wrong_size = http.post(f"/datasets/{name}/versions", json=_version(present, "file", 4, 1))
    assert wrong_size.status_code == 400 and "3 bytes" in wrong_size.json()["message"]
    entries = {"a": {"id": present, "size": 3}, "b": {"id": absent, "size": 3}}
    tree_id = http.post("/dataset-content/trees", json={"entries": entries}).json()["tree_id"]
    partial = http.post(f"/datasets/{name}/versions", json=_version(tree_id, "dir", 6, 2))
    assert partial.status_code == 400 and "'b'" in partial.json()["message"]
    assert http.get(f"/datasets/{name}/versions").status_code == 404  # nothing recorded


def test_bad_requests_get_clear_4xx(http: httpx.Client) -> None:
    data = b"some bytes"
    damaged = http.put(f"/dataset-content/objects/{hash_bytes(b'other')}", content=data)
    assert damaged.status_code == 400 and "damaged" in damaged.json()["message"]
    assert http.put("/dataset-content/objects/not-an-id", content=data).status_code == 400
    assert http.post("/dataset-content/missing", json={"ids": ["xyz"]}).status_code == 400
    too_many = {"ids": [hash_bytes(b"x")] * 10_001}
    assert http.post("/dataset-content/missing", json=too_many).status_code == 400
    escape = {"entries": {"../up": {"id": hash_bytes(b"x"), "size": 1}}}
    assert http.post("/dataset-content/trees", json=escape).status_code == 400
    present = _upload(http, data)
    good = _version(present, "file", len(data), 1)
    for bad in (
        good | {"size": "10"},  # strict: no string numbers
        good | {"unknown": 1},
        good | {"kind": "link"},
        good | {"rows": -1},
        good | {"content_id": "ABC"},
    ):
        answer = http.post(f"/datasets/{_name()}/versions", json=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert http.post("/datasets/bad@name/versions", json=good).status_code == 400
    missing = http.get(f"/datasets/{_name()}/versions/latest")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    name = _name()
    assert http.post(f"/datasets/{name}/versions", json=good).status_code == 201
    assert http.get(f"/datasets/{name}/versions/2").status_code == 404
    for bad_version in ("0", "abc", "-1"):
        assert http.get(f"/datasets/{name}/versions/{bad_version}").status_code == 400


def test_the_mlflow_client_sees_a_logged_dataset_version(
    server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    table = tmp_path / "iris.csv"
    table.write_text("x,y\n1,a\n2,b\n")
    client = lm.Client(server.url, settings=Settings(home=tmp_path / "home"))
    try:
        version = lm.register_dataset(_name(), table, client=client)
        run_id = client.create_run("0").info.run_id
        lm.log_input(version, run_id=run_id, client=client)
    finally:
        client.close()
    (item,) = MlflowClient(tracking_uri=server.url).get_run(run_id).inputs.dataset_inputs
    assert (item.dataset.name, item.dataset.digest) == (version.name, version.content_id)
    assert item.dataset.source == version.uri and item.dataset.source_type == "loopml"
    assert '"num_rows": 2' in item.dataset.profile
    assert {t.key: t.value for t in item.tags}.get("mlflow.data.context") == "training"
