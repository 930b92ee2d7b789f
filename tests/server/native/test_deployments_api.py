"""The native deployments API (``/api/v1/deployments``) over real HTTP: routes and refusals."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Iterator

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from live_server import LiveServer

API = "/api/v1"


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + API, timeout=30) as session:
        yield session


def _name() -> str:
    return f"dep-{uuid.uuid4().hex[:8]}"


def _segment(name: str, times: list[int], **overrides: object) -> bytes:
    n = len(times)
    columns: dict[str, object] = {
        "request_id": pa.array([f"r{i}" for i in range(n)], pa.string()),
        "row": pa.array([0] * n, pa.int32()),
        "time_ms": pa.array(times, pa.int64()),
        "deployment": pa.array([name] * n, pa.string()),
        "model_uri": pa.array(["models:/m/1"] * n, pa.string()),
        "model_version": pa.array(["1"] * n, pa.string()),
        "role": pa.array(["primary"] * n, pa.string()),
        "latency_ms": pa.array([1.0] * n, pa.float64()),
        "error": pa.array([None] * n, pa.string()),
        "input.x": pa.array([1.0] * n),
        "prediction": pa.array([0.5] * n),
    }
    columns.update(overrides)
    sink = io.BytesIO()
    pq.write_table(pa.table({k: v for k, v in columns.items() if v is not None}), sink)
    return sink.getvalue()


def test_crud_and_errors(http: httpx.Client) -> None:
    name = _name()
    body = {"name": name, "model_uri": "models:/m@champion", "canary_uri": "models:/m/2"}
    created = http.post("/deployments", json={**body, "canary_weight": 0.2})
    assert created.status_code == 200 and created.json()["deployment"]["revision"] == 1
    assert http.post("/deployments", json=body).status_code == 409
    got = http.get(f"/deployments/{name}").json()["deployment"]
    assert got["canary_weight"] == 0.2
    assert name in [d["name"] for d in http.get("/deployments").json()["deployments"]]

    patched = http.patch(f"/deployments/{name}", json={"canary_uri": None})
    assert patched.json()["deployment"]["canary_uri"] is None
    assert patched.json()["deployment"]["canary_weight"] == 0.0
    assert patched.json()["deployment"]["revision"] == 2

    for bad in (
        {"name": _name(), "model_uri": "http://169.254.169.254/"},
        {"name": _name(), "model_uri": "models:/m/1", "canary_weight": 1.5},
        {"name": _name(), "model_uri": "models:/m/1", "canary_weight": 0.5},
        {"name": "a/b", "model_uri": "models:/m/1"},
        {"name": _name(), "model_uri": "models:/m/1", "extra": 1},
        {"name": _name(), "model_uri": "models:/m/1", "canary_weight": "0.5"},
    ):
        answer = http.post("/deployments", json=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    refused = http.patch(f"/deployments/{name}", json={"model_uri": None})
    assert refused.status_code == 400
    assert http.get(f"/deployments/{name}").json()["deployment"]["revision"] == 2
    assert http.get("/deployments/ghost-x").status_code == 404
    assert http.delete(f"/deployments/{name}").status_code == 200
    assert http.delete(f"/deployments/{name}").status_code == 404


def test_segments_upload_list_download_and_labels(http: httpx.Client) -> None:
    name = _name()
    http.post("/deployments", json={"name": name, "model_uri": "models:/m/1"})
    data = _segment(name, [300, 100, 200])
    headers = {"Content-Type": "application/vnd.apache.parquet"}
    stored = http.post(f"/deployments/{name}/predictions", content=data, headers=headers)
    assert stored.status_code == 200
    segment = stored.json()["segment"]
    assert (segment["min_time"], segment["max_time"], segment["rows"]) == (100, 300, 3)
    listed = http.get(f"/deployments/{name}/predictions", params={"since_ms": 250})
    assert [s["id"] for s in listed.json()["segments"]] == [segment["id"]]
    assert http.get(f"/deployments/{name}/predictions", params={"since_ms": 301}).json() == {
        "segments": []
    }
    download = http.get(f"/deployments/{name}/predictions/{segment['id']}")
    assert download.content == data and download.headers["etag"] == f'"{segment["blob_id"]}"'
    assert http.get(f"/deployments/{name}/predictions/999999").status_code == 404

    labels = {"labels": [{"request_id": "r0", "label": 1}, {"request_id": "r1", "label": [1, 2]}]}
    assert http.post(f"/deployments/{name}/labels", json=labels).json() == {"count": 2}
    assert http.get(f"/deployments/{name}/labels").json()["labels"] == [
        {"request_id": "r0", "label": 1},
        {"request_id": "r1", "label": [1, 2]},
    ]
    assert http.post("/deployments/ghost-y/labels", json=labels).status_code == 404
    bad_labels = {"labels": [{"request_id": "", "label": 1}]}
    assert http.post(f"/deployments/{name}/labels", json=bad_labels).status_code == 400


@pytest.mark.parametrize(
    "case",
    ["not parquet", "missing column", "wrong type", "other deployment", "empty"],
)
def test_bad_segments_are_refused_and_not_indexed(http: httpx.Client, case: str) -> None:
    name = _name()
    http.post("/deployments", json={"name": name, "model_uri": "models:/m/1"})
    data = {
        "not parquet": b"PAR1 this is not parquet at all",
        "missing column": _segment(name, [1], request_id=None),
        "wrong type": _segment(name, [1], time_ms=pa.array(["1"], pa.string())),
        "other deployment": _segment("someone-else", [1]),
        "empty": _segment(name, []),
    }[case]
    answer = http.post(f"/deployments/{name}/predictions", content=data)
    assert answer.status_code == 400 and answer.json()["message"]
    assert http.get(f"/deployments/{name}/predictions").json() == {"segments": []}


def test_oversized_segments_get_413(server: LiveServer) -> None:
    # The declared length alone is refused, before any of the body is read.
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        f"POST {API}/deployments/{_name()}/predictions HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Length: {65 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        status_line = sock.makefile("rb").readline().decode()
    assert " 413 " in status_line
