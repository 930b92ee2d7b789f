"""Open Inference Protocol V2 in process: tensors to columns, outputs, metadata, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from inprocess import InProcess
from serving_support import FEATURES, classifier

from conftest import Store
from loopml.serving import NullSink, ServeConfig, create_serving_app

ROWS = [[0.5, 0.7, 0.0, 1.0], [-2.0, -1.0, 0.3, 0.0]]


@pytest.fixture(scope="module")
def server(iris_store: Store) -> Iterator[InProcess]:
    config = ServeConfig(model_uri="models:/iris@champion", reload_interval=60)
    app = create_serving_app(config, client=iris_store.client, sink=NullSink())
    with InProcess(app) as running:
        yield running


def _columns(rows: list[list[float]], datatype: str = "FP64") -> list[dict[str, Any]]:
    return [
        {"name": c, "datatype": datatype, "shape": [len(rows)], "data": [r[i] for r in rows]}
        for i, c in enumerate(FEATURES)
    ]


def _expected(rows: list[list[float]]) -> list[int]:
    return classifier().predict(pd.DataFrame(rows, columns=FEATURES)).tolist()


def test_one_tensor_per_column_or_one_matrix(server: InProcess) -> None:
    by_column = server.post("/v2/models/iris/infer", json={"id": "q1", "inputs": _columns(ROWS)})
    assert by_column.status_code == 200, by_column.text
    body = by_column.json()
    assert body["model_name"] == "iris" and body["model_version"] == "1" and body["id"] == "q1"
    assert body["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [2], "data": _expected(ROWS)}
    ]
    assert by_column.headers["x-request-id"] == "q1"  # the body's id, when no header names one
    matrix = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "data": ROWS}]}
    answer = server.post("/v2/models/iris/versions/1/infer", json=matrix)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"][0]["data"] == _expected(ROWS)
    flat = {
        "inputs": [
            {
                "name": "x",
                "datatype": "FP64",
                "shape": [2, 4],
                "data": [v for row in ROWS for v in row],
            }
        ]
    }
    assert server.post("/v2/models/iris/infer", json=flat).json()["outputs"][0][
        "data"
    ] == _expected(ROWS)
    ints = _columns([[1, 2, 0, 1]], "INT64")
    assert server.post("/v2/models/iris/infer", json={"inputs": ints}).status_code == 200
    wanted = {"inputs": _columns(ROWS), "outputs": [{"name": "predict"}]}
    assert server.post("/v2/models/iris/infer", json=wanted).status_code == 200


def test_metadata_health_and_readiness(server: InProcess) -> None:
    assert server.get("/v2").json()["name"] == "loopml"
    assert server.get("/v2/health/live").status_code == 200
    ready = server.get("/v2/health/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    meta = server.get("/v2/models/iris").json()
    assert meta["name"] == "iris" and meta["versions"] == ["1"]
    assert [i["name"] for i in meta["inputs"]] == FEATURES
    assert {i["datatype"] for i in meta["inputs"]} == {"FP64"}
    assert meta["outputs"][0]["name"] == "predict"
    assert server.get("/v2/models/iris/versions/1").status_code == 200
    assert server.get("/v2/models/iris/ready").json()["ready"] is True
    assert server.get("/v2/models/iris/versions/1/ready").status_code == 200


def _matrix(shape: list[int], data: Any, datatype: str = "FP32") -> dict[str, Any]:
    return {"inputs": [{"name": "x", "datatype": datatype, "shape": shape, "data": data}]}


@pytest.mark.parametrize(
    ("url", "body", "status", "needle"),
    [
        ("/v2/models/nope/infer", {"inputs": _columns(ROWS)}, 404, "'nope'"),
        ("/v2/models/iris/versions/7/infer", {"inputs": _columns(ROWS)}, 404, "'7'"),
        ("/v2/models/iris/infer", _matrix([2, 4], [1, 2, 3]), 400, "needs 8 values"),
        ("/v2/models/iris/infer", _matrix([2, 3], [1, 2, 3, 4, 5, 6]), 400, "[N, 4]"),
        (
            "/v2/models/iris/infer",
            _matrix([1, 4], ["a", "b", "c", "d"]),
            400,
            "FP32 but holds strings",
        ),
        ("/v2/models/iris/infer", _matrix([1, 4], [1, 2, 3, 4], "FP128"), 400, "datatype 'FP128'"),
        ("/v2/models/iris/infer", _matrix([1, 4], [1.5, 2, 3, 4], "INT32"), 400, "INT32 but holds"),
        ("/v2/models/iris/infer", _matrix([1, 4], [300, 2, 3, 4], "INT8"), 400, "range of INT8"),
        ("/v2/models/iris/infer", {"inputs": _columns(ROWS)[:3]}, 400, "Missing input 'd'"),
        (
            "/v2/models/iris/infer",
            {"inputs": [*_columns(ROWS), {**_columns(ROWS)[0], "name": "e"}]},
            400,
            "Unexpected input 'e'",
        ),
        (
            "/v2/models/iris/infer",
            {"inputs": [*_columns(ROWS), _columns(ROWS)[0]]},
            400,
            "given twice",
        ),
        ("/v2/models/iris/infer", {"inputs": []}, 400, "non-empty list"),
        (
            "/v2/models/iris/infer",
            {"inputs": [{"name": "a", "datatype": "FP32", "data": [1]}]},
            400,
            "'shape'",
        ),
        (
            "/v2/models/iris/infer",
            {"inputs": _columns(ROWS), "outputs": [{"name": "proba"}]},
            400,
            "Unknown output 'proba'",
        ),
        (
            "/v2/models/iris/infer",
            {"inputs": [{**c, "shape": [2, 2], "data": [1, 2, 3, 4]} for c in _columns(ROWS)]},
            400,
            "[N, 1]",
        ),
    ],
)
def test_bad_requests_are_4xx_naming_the_problem(
    server: InProcess, url: str, body: dict[str, Any], status: int, needle: str
) -> None:
    answer = server.post(url, json=body)
    assert answer.status_code == status, answer.text
    assert needle in answer.json()["error"]


def test_bad_bodies_and_unknown_models(server: InProcess) -> None:
    invalid = server.post("/v2/models/iris/infer", content=b"{oops")
    assert invalid.status_code == 400 and "not valid JSON" in invalid.json()["error"]
    binary = server.post(
        "/v2/models/iris/infer", content=b"{}", headers={"Inference-Header-Content-Length": "2"}
    )
    assert binary.status_code == 400 and "binary data extension" in binary.json()["error"]
    assert server.get("/v2/models/nope").status_code == 404
    assert "error" in server.get("/v2/models/nope/ready").json()
    assert server.get("/v2/models/iris/versions/9").status_code == 404
    assert server.get("/v2/nothing").json() == {"error": "No route GET /v2/nothing"}
