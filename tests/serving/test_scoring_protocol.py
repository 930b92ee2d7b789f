"""MLflow's scoring protocol in process: every body format, the answers' shape, bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from inprocess import InProcess
from serving_support import FEATURES, classifier

from conftest import Store
from loopml.serving import NullSink, ServeConfig, create_serving_app

ROWS = [[0.5, 0.7, 0.0, 1.0], [-2.0, -1.0, 0.3, 0.0], [1.5, -0.2, 2.0, -1.0]]


@pytest.fixture(scope="module")
def server(iris_store: Store) -> Iterator[InProcess]:
    config = ServeConfig(model_uri="models:/iris/1", max_body_bytes=20_000)
    app = create_serving_app(config, client=iris_store.client, sink=NullSink())
    with InProcess(app) as running:
        yield running


@pytest.fixture(scope="module")
def expected() -> list[int]:
    return classifier().predict(pd.DataFrame(ROWS, columns=FEATURES)).tolist()


def test_every_json_format_predicts_the_same(server: InProcess, expected: list[int]) -> None:
    records = [dict(zip(FEATURES, row, strict=True)) for row in ROWS]
    bodies = [
        {"dataframe_split": {"columns": FEATURES, "data": ROWS}},
        {"dataframe_split": {"columns": FEATURES[::-1], "data": [r[::-1] for r in ROWS]}},
        {"dataframe_records": records},
        {"instances": records},
        {"instances": ROWS},
        {"inputs": {c: [r[i] for r in ROWS] for i, c in enumerate(FEATURES)}},
        {"inputs": ROWS, "params": {"ignored": True}},
    ]
    for body in bodies:
        answer = server.post("/invocations", json=body)
        assert answer.status_code == 200, (body, answer.text)
        assert answer.json() == {"predictions": expected}, body
        assert answer.headers["x-model-version"] == "models:/iris/1"


def test_csv_and_mixed_types(server: InProcess, expected: list[int]) -> None:
    csv = pd.DataFrame(ROWS, columns=FEATURES).to_csv(index=False)
    answer = server.post("/invocations", content=csv, headers={"content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": expected}
    # integers and floats mixed in one column go through the signature's safe casts
    mixed = {
        "dataframe_records": [
            {"a": 1, "b": 0.5, "c": 0, "d": 2},
            {"a": -1.5, "b": -2, "c": 1, "d": 0},
        ]
    }
    answer = server.post("/invocations", json=mixed)
    frame = pd.DataFrame(mixed["dataframe_records"])[FEATURES].astype(float)
    assert answer.json() == {"predictions": classifier().predict(frame).tolist()}


def test_request_id_is_echoed_or_made(server: InProcess) -> None:
    body = {"dataframe_split": {"columns": FEATURES, "data": ROWS[:1]}}
    given = server.post("/invocations", json=body, headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    first = server.post("/invocations", json=body).headers["x-request-id"]
    second = server.post("/invocations", json=body).headers["x-request-id"]
    assert first and second and first != second


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "Received a list"),
        (
            b'{"dataframe_split": {"data": [[1,2,3,4]]}, "instances": [[1,2,3,4]]}',
            400,
            "exactly one",
        ),
        (b'{"columns": ["a"]}', 400, "exactly one"),
        (b'{"dataframe_split": {"columns": ["a","b","c"], "data": [[1,2,3]]}}', 400, "'d'"),
        (
            b'{"dataframe_split": {"columns": ["a","b","c","d","e"], "data": [[1,2,3,4,5]]}}',
            400,
            "'e'",
        ),
        (b'{"dataframe_records": [{"a": "x", "b": 1, "c": 1, "d": 1}]}', 400, "'a'"),
        (b'{"instances": [[1, 2, 3]]}', 400, "4 columns"),
        (b'{"instances": [[1, 2], [3]]}', 400, "instances"),
        (
            b'{"dataframe_split": {"columns": ["a","b","c","d"], "data": [[1,2,3,4]], "x": 1}}',
            400,
            "'data'",
        ),
        (b'{"dataframe_records": {"a": 1}}', 400, "list of records"),
        (b'{"inputs": {"a": [1, 2], "b": [1]}}', 400, "different lengths"),
        (b'{"instances": []}', 400, "empty"),
    ],
)
def test_bad_json_bodies_are_400_naming_the_problem(
    server: InProcess, body: bytes, status: int, needle: str
) -> None:
    answer = server.post("/invocations", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert needle in error["message"]


def test_content_type_and_size_limits(server: InProcess) -> None:
    body = b'{"instances": [[1, 2, 3, 4]]}'
    answer = server.post("/invocations", content=body, headers={"content-type": "text/plain"})
    assert answer.status_code == 415
    assert "application/json or text/csv" in answer.json()["message"]
    latin = server.post(
        "/invocations", content=body, headers={"content-type": "application/json; charset=latin-1"}
    )
    assert latin.status_code == 415
    bad_csv = server.post("/invocations", content=b"a,b\n1", headers={"content-type": "text/csv"})
    assert bad_csv.status_code == 400
    big = {"instances": [[1.0, 2.0, 3.0, 4.0]] * 2000}
    too_big = server.post("/invocations", json=big)
    assert too_big.status_code == 413
    assert too_big.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "20000" in too_big.json()["message"]


def test_health_version_and_unknown_routes(server: InProcess) -> None:
    assert server.get("/ping").status_code == 200
    health = server.get("/health").json()
    assert health["ready"] is True and health["model_version"] == "models:/iris/1"
    assert server.get("/version").status_code == 200
    missing = server.get("/nope")
    assert missing.status_code == 404 and missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    wrong_method = server.get("/invocations")
    assert wrong_method.status_code == 405


def test_metrics_count_requests_by_version_and_protocol(server: InProcess) -> None:
    body = {"instances": ROWS}
    for _ in range(3):
        assert server.post("/invocations", json=body).status_code == 200
    text = server.get("/metrics").text
    line = next(
        x
        for x in text.splitlines()
        if x.startswith("loopml_serving_requests_total{")
        and 'model_version="models:/iris/1"' in x
        and 'protocol="mlflow"' in x
        and 'status="200"' in x
    )
    assert float(line.rsplit(" ", 1)[1]) >= 3
    assert "loopml_serving_request_duration_seconds_bucket" in text
    assert "loopml_serving_queue_depth" in text
    assert "loopml_serving_prediction_log_dropped" in text


def test_unloadable_model_leaves_the_server_up_but_not_ready(iris_store: Store) -> None:
    config = ServeConfig(model_uri="models:/nosuch@champion", reload_interval=60)
    app = create_serving_app(config, client=iris_store.client, sink=NullSink())
    with InProcess(app) as server:
        ready = server.get("/v2/health/ready")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False
        assert "nosuch" in ready.json()["reason"]
        assert server.get("/v2/health/live").status_code == 200
        assert server.get("/ping").status_code == 503
        answer = server.post("/invocations", json={"instances": [[1, 2, 3, 4]]})
        assert answer.status_code == 503
        assert "nosuch" in answer.json()["message"]
