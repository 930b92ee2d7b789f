"""The native API over real HTTP: every route, bad input, limits and confinement."""

from __future__ import annotations

import json
import math
import os
import uuid
from http.client import HTTPConnection
from urllib.parse import urlsplit

import blake3
import httpx
import pytest
from live_server import LiveServer

API = "/api/v1"


@pytest.fixture
def http(server: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=server.url + API, timeout=30) as session:
        yield session


def _name() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


def _run(http: httpx.Client, **fields: object) -> str:
    response = http.post("/runs", json={"experiment_id": "0", **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["run"]["info"]["run_id"])


def _raw_post(http: httpx.Client, path: str, body: bytes) -> httpx.Response:
    return http.post(path, content=body, headers={"Content-Type": "application/json"})


def test_experiments(http: httpx.Client) -> None:
    name = _name()
    created = http.post("/experiments", json={"name": name, "tags": {"team": "a"}})
    experiment_id = created.json()["experiment_id"]
    got = http.get(f"/experiments/{experiment_id}").json()["experiment"]
    assert (got["name"], got["tags"], got["lifecycle_stage"]) == (name, {"team": "a"}, "active")
    assert http.get("/experiments/by-name", params={"name": name}).json()["experiment"] == got
    missing = http.get("/experiments/by-name", params={"name": _name()})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    duplicate = http.post("/experiments", json={"name": name})
    assert (duplicate.status_code, duplicate.json()["error_code"]) == (
        409,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert http.patch(f"/experiments/{experiment_id}", json={"name": name + "-x"}).is_success
    assert http.post(f"/experiments/{experiment_id}/tags", json={"key": "k", "value": "v"})
    assert http.delete(f"/experiments/{experiment_id}").is_success
    deleted = http.get("/experiments", params={"view_type": "DELETED_ONLY"}).json()
    assert experiment_id in [e["experiment_id"] for e in deleted["experiments"]]
    assert http.post(f"/experiments/{experiment_id}/restore").is_success
    final = http.get(f"/experiments/{experiment_id}").json()["experiment"]
    assert final["name"] == name + "-x" and final["tags"] == {"team": "a", "k": "v"}


def test_experiment_pages(http: httpx.Client) -> None:
    for _ in range(3):
        http.post("/experiments", json={"name": _name()})
    seen, token = [], None
    while True:
        params = {"max_results": 2, **({"page_token": token} if token else {})}
        page = http.get("/experiments", params=params).json()
        seen += [e["experiment_id"] for e in page["experiments"]]
        token = page["next_page_token"]
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 4


def test_run_lifecycle_logging_and_search(http: httpx.Client) -> None:
    experiment_id = http.post("/experiments", json={"name": _name()}).json()["experiment_id"]
    run_id = _run(
        http, experiment_id=experiment_id, run_name="first", tags={"t": "1"}, user_id="alice"
    )
    body = (
        '{"metrics":[{"key":"loss","value":NaN,"timestamp":5,"step":0},'
        '{"key":"loss","value":0.5,"timestamp":6,"step":1},'
        '{"key":"big","value":Infinity,"timestamp":6}],'
        '"params":[{"key":"lr","value":"0.1"}],"tags":[{"key":"stage","value":"dev"}]}'
    )
    assert _raw_post(http, f"/runs/{run_id}/batch", body.encode()).json() == {}
    run = json.loads(http.get(f"/runs/{run_id}").text)["run"]
    assert run["info"]["user_id"] == "alice" and run["data"]["tags"]["mlflow.user"] == "alice"
    assert run["data"]["metrics"] == {"loss": 0.5, "big": math.inf}
    assert run["data"]["params"] == {"lr": "0.1"}
    history = json.loads(http.get(f"/runs/{run_id}/metrics/loss").text)["metrics"]
    assert [m["step"] for m in history] == [0, 1] and math.isnan(history[0]["value"])
    assert http.delete(f"/runs/{run_id}/tags/stage").is_success
    assert http.delete(f"/runs/{run_id}/tags/stage").status_code == 404
    dataset = {"name": "iris", "digest": "d1", "context": "train"}
    assert http.post(f"/runs/{run_id}/inputs", json={"datasets": [dataset]}).is_success
    renamed = http.patch(f"/runs/{run_id}", json={"run_name": "renamed"}).json()["run_info"]
    assert renamed["run_name"] == "renamed"
    search = {"experiment_ids": [experiment_id], "filter": "params.lr = '0.1'"}
    found = http.post("/runs/search", json=search).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    ended = http.post(f"/runs/{run_id}/terminate", json={"status": "FAILED", "end_time": 99})
    assert ended.json()["run_info"]["status"] == "FAILED"
    assert ended.json()["run_info"]["end_time"] == 99
    late = http.post(
        f"/runs/{run_id}/batch", json={"metrics": [{"key": "m", "value": 1.0, "timestamp": 1}]}
    )
    assert (late.status_code, late.json()["error_code"]) == (400, "INVALID_STATE")
    assert http.delete(f"/runs/{run_id}").is_success
    assert http.post("/runs/search", json=search).json()["runs"] == []
    assert http.post(f"/runs/{run_id}/restore").is_success
    assert http.post("/runs/search", json=search).json()["runs"] != []


def test_batch_ids_make_writes_idempotent(http: httpx.Client) -> None:
    run_id = _run(http)
    batch = {"metrics": [{"key": "m", "value": 1.0, "timestamp": 1}], "batch_id": "b-1.x_y"}
    for _ in range(3):
        assert http.post(f"/runs/{run_id}/batch", json=batch).is_success
    assert len(http.get(f"/runs/{run_id}/metrics/m").json()["metrics"]) == 1
    for bad_id in ["", "x" * 65, "has space", "a/b"]:
        response = http.post(f"/runs/{run_id}/batch", json={**batch, "batch_id": bad_id})
        assert response.status_code == 400, bad_id


BAD_BATCHES = [
    pytest.param(b'{"metrics": [', id="malformed-json"),
    pytest.param(b"[]", id="array-body"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b'{"metrics": [{"key": "m", "value": "1", "timestamp": 1}]}', id="str-value"),
    pytest.param(b'{"metrics": [{"key": "m", "value": true, "timestamp": 1}]}', id="bool-value"),
    pytest.param(b'{"metrics": [{"key": "m", "value": 1, "timestamp": 1.5}]}', id="float-ts"),
    pytest.param(b'{"metrics": [{"key": 7, "value": 1, "timestamp": 1}]}', id="int-key"),
    pytest.param(b'{"metrics": [{"key": "m", "value": 1}]}', id="missing-field"),
    pytest.param(b'{"metrics": [], "extra": 1}', id="unknown-field"),
    pytest.param(
        b'{"metrics": [{"key": "m", "value": 1, "timestamp": 1, "x": 0}]}',
        id="unknown-nested-field",
    ),
    pytest.param(b'{"params": [{"key": "p", "value": 1}]}', id="int-param-value"),
    pytest.param(b'{"metrics": {"key": "m"}}', id="object-for-list"),
    pytest.param(
        b'{"metrics": [{"key": "bad$key", "value": 1, "timestamp": 1}]}', id="invalid-key"
    ),
    pytest.param(
        b'{"params": [{"key": "p", "value": "1"}, {"key": "q", "value": "' + b"x" * 6001 + b'"}]}',
        id="param-too-long",
    ),
]


@pytest.mark.parametrize("body", BAD_BATCHES)
def test_bad_batches_are_400_and_write_nothing(http: httpx.Client, body: bytes) -> None:
    run_id = _run(http)
    response = _raw_post(http, f"/runs/{run_id}/batch", body)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    data = http.get(f"/runs/{run_id}").json()["run"]["data"]
    assert data["metrics"] == {} and data["params"] == {}


def test_a_body_that_is_not_json_is_400(http: httpx.Client) -> None:
    run_id = _run(http)
    response = http.post(
        f"/runs/{run_id}/batch", content=b'{"metrics": []}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/runs/0123456789abcdef0123456789abcdef", None, 404),
        ("GET", "/runs/not-a-run", None, 404),
        (
            "POST",
            "/runs/0123456789abcdef0123456789abcdef/batch",
            {"metrics": [{"key": "m", "value": 1.0, "timestamp": 1}]},
            404,
        ),
        ("PATCH", "/runs/0123456789abcdef0123456789abcdef", {"status": "FINISHED"}, 404),
        ("GET", "/runs/0123456789abcdef0123456789abcdef/metrics/m", None, 404),
        ("GET", "/experiments/987654", None, 404),
        ("GET", "/experiments/abc", None, 400),
        ("POST", "/runs", {"experiment_id": "987654"}, 404),
        ("PATCH", "/runs/0123456789abcdef0123456789abcdef", {"status": "DONE"}, 400),
        ("POST", "/runs/search", {"experiment_ids": ["0"], "filter": "metrics.x >"}, 400),
        ("POST", "/runs/search", {"experiment_ids": ["0"], "max_results": 0}, 400),
        ("POST", "/runs/search", {"experiment_ids": ["0"], "page_token": "garbage"}, 400),
        ("GET", "/experiments?view_type=SOME", None, 400),
        ("POST", "/runs", {"experiment_id": "0", "start_time": 2**63}, 400),
        ("PATCH", "/runs/0123456789abcdef0123456789abcdef", {"end_time": -(2**64)}, 400),
        ("GET", "/nothing/here", None, 404),
    ],
)
def test_unknown_ids_and_bad_arguments_are_4xx(
    http: httpx.Client, method: str, path: str, body: object, status: int
) -> None:
    response = http.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error_code", "message"}


def test_oversized_json_bodies_are_413(server: LiveServer, http: httpx.Client) -> None:
    run_id = _run(http)
    address = urlsplit(server.url)
    connection = HTTPConnection(address.hostname or "127.0.0.1", address.port)
    connection.putrequest("POST", f"{API}/runs/{run_id}/batch")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(65 * 1024 * 1024))
    connection.endheaders()  # refused on the declared length, before any byte of the body
    declared = connection.getresponse()
    assert declared.status == 413
    assert json.loads(declared.read())["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    connection.close()
    point = b'{"key":"m","value":1.0,"timestamp":1,"step":0},'
    body = b'{"metrics":[' + point * (65 * 1024 * 1024 // len(point)) + b"]}"
    chunked = http.post(  # no declared length: refused once 64 MiB have arrived
        f"/runs/{run_id}/batch",
        content=iter([body[i : i + (4 << 20)] for i in range(0, len(body), 4 << 20)]),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    assert chunked.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert http.get(f"/runs/{run_id}").json()["run"]["data"]["metrics"] == {}


def test_artifacts_stream_up_and_down(http: httpx.Client) -> None:
    run_id = _run(http)
    data = os.urandom(3 * 1024 * 1024 + 17)
    uploaded = http.put(
        f"/runs/{run_id}/artifacts/model/weights.bin",
        content=iter([data[: 1 << 20], data[1 << 20 :]]),
        headers={"Content-Type": "application/octet-stream"},
    ).json()["entry"]
    assert uploaded == {
        "path": "model/weights.bin",
        "blob_id": blake3.blake3(data).hexdigest(),
        "size": len(data),
    }
    http.put(f"/runs/{run_id}/artifacts/notes.txt", content=b"hello")
    download = http.get(f"/runs/{run_id}/artifacts/model/weights.bin")
    assert download.content == data
    assert download.headers["etag"] == f'"{uploaded["blob_id"]}"'
    top = http.get(f"/runs/{run_id}/artifacts").json()["files"]
    assert top == [
        {"path": "model", "is_dir": True, "file_size": None},
        {"path": "notes.txt", "is_dir": False, "file_size": 5},
    ]
    entries = http.get(f"/runs/{run_id}/artifact-entries", params={"prefix": "model"}).json()
    assert entries["entries"] == [uploaded]
    folder = http.get(f"/runs/{run_id}/artifacts/model")
    assert folder.status_code == 400
    assert http.get(f"/runs/{run_id}/artifacts/absent.txt").status_code == 404
    other = _run(http)
    copy = {"entries": [{**uploaded, "path": "copy/weights.bin"}]}
    assert http.post(f"/runs/{other}/artifact-entries", json=copy).is_success
    assert http.get(f"/runs/{other}/artifacts/copy/weights.bin").content == data
    forged = {"entries": [{"path": "x.bin", "blob_id": "ab" * 32, "size": 1}]}
    assert http.post(f"/runs/{other}/artifact-entries", json=forged).status_code == 404
    wrong = {"entries": [{**uploaded, "size": 1}]}
    assert http.post(f"/runs/{other}/artifact-entries", json=wrong).status_code == 400
    missing_run = http.put("/runs/0123456789abcdef0123456789abcdef/artifacts/a.txt", content=b"x")
    assert missing_run.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "%2E%2E/escape.txt",
        "a/%2e%2e/%2e%2e/escape.txt",
        "..%2Fescape.txt",
        "a%5Cb.txt",
        "a%00b.txt",
        "a%252e%252e/b.txt",
        "a//b.txt",
    ],
)
def test_artifact_paths_are_confined(http: httpx.Client, path: str) -> None:
    run_id = _run(http)
    url = f"/runs/{run_id}/artifacts/{path}"
    assert http.put(url, content=b"x").status_code == 400
    assert http.get(url).status_code == 400
    assert http.get(f"/runs/{run_id}/artifacts").json()["files"] == []


def test_raw_dot_segments_are_refused(server: LiveServer, http: httpx.Client) -> None:
    run_id = _run(http)
    address = urlsplit(server.url)
    connection = HTTPConnection(address.hostname or "127.0.0.1", address.port)
    connection.request("GET", f"{API}/runs/{run_id}/artifacts/../../../../etc/passwd")
    response = connection.getresponse()
    assert response.status in (400, 404)
    assert b"root:" not in response.read()
    connection.close()


def test_ingested_metric_points_are_counted(server: LiveServer, http: httpx.Client) -> None:
    def counted() -> float:
        text = httpx.get(f"{server.url}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith("loopml_metrics_ingested_total"))
        return float(line.split()[-1])

    before = counted()
    points = [{"key": "m", "value": float(i), "timestamp": 1, "step": i} for i in range(7)]
    http.post(f"/runs/{_run(http)}/batch", json={"metrics": points})
    assert counted() - before == 7


def test_openapi_documents_every_operation(http: httpx.Client, server: LiveServer) -> None:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    native = {p: ops for p, ops in schema["paths"].items() if p.startswith(API)}
    operations = {
        (method.upper(), path[len(API) :]) for path, ops in native.items() for method in ops
    }
    assert operations >= {
        ("POST", "/experiments"),
        ("GET", "/experiments"),
        ("GET", "/experiments/by-name"),
        ("GET", "/experiments/{experiment_id}"),
        ("PATCH", "/experiments/{experiment_id}"),
        ("DELETE", "/experiments/{experiment_id}"),
        ("POST", "/experiments/{experiment_id}/restore"),
        ("POST", "/experiments/{experiment_id}/tags"),
        ("POST", "/runs"),
        ("POST", "/runs/search"),
        ("GET", "/runs/{run_id}"),
        ("PATCH", "/runs/{run_id}"),
        ("POST", "/runs/{run_id}/terminate"),
        ("DELETE", "/runs/{run_id}"),
        ("POST", "/runs/{run_id}/restore"),
        ("POST", "/runs/{run_id}/batch"),
        ("DELETE", "/runs/{run_id}/tags/{key}"),
        ("GET", "/runs/{run_id}/metrics/{key}"),
        ("POST", "/runs/{run_id}/inputs"),
        ("PUT", "/runs/{run_id}/artifacts/{path}"),
        ("GET", "/runs/{run_id}/artifacts"),
        ("GET", "/runs/{run_id}/artifacts/{path}"),
        ("GET", "/runs/{run_id}/artifact-entries"),
        ("POST", "/runs/{run_id}/artifact-entries"),
    }
    batch = native[f"{API}/runs/{{run_id}}/batch"]["post"]
    ref = batch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/LogBatch")
    assert schema["components"]["schemas"]["LogBatch"]["additionalProperties"] is False
    assert "gc" not in json.dumps(list(native))
