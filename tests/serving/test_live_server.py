"""``loopml serve`` as users run it: a subprocess on a free port, real clients.

One server per module (per xdist worker): the protocol tests first, then the
alias moves (hot reload), then a version that cannot load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from serving_support import (
    FEATURES,
    LiveServe,
    classifier,
    free_port,
    live_serve,
    register,
    untrusted_classifier,
)

from conftest import Store

ROWS = [[0.5, 0.7, 0.0, 1.0], [-2.0, -1.0, 0.3, 0.0], [1.5, -0.2, 2.0, -1.0]]


@pytest.fixture(scope="module")
def served(iris_store: Store) -> Iterator[LiveServe]:
    args = ["models:/iris@champion", "--max-body-mb", "0.01", "--max-batch-delay-ms", "1"]
    with live_serve(iris_store.root, args, free_port()) as server:
        yield server


def _expected(rows: list[list[float]], flip: bool = False) -> list[int]:
    return classifier(flip).predict(pd.DataFrame(rows, columns=FEATURES)).tolist()


def test_protocols_over_http(served: LiveServe) -> None:
    """MLflow scoring, bad input, V2 through tritonclient and metrics, on one live server."""
    _mlflow_scoring_formats(served)
    _bad_input(served)
    _open_inference_v2_with_tritonclient(served)
    _metrics(served)


def _mlflow_scoring_formats(served: LiveServe) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        split = http.post(
            "/invocations", json={"dataframe_split": {"columns": FEATURES, "data": ROWS}}
        )
        assert split.status_code == 200, split.text
        assert split.json() == {"predictions": _expected(ROWS)}
        assert split.headers["x-model-version"] == "models:/iris/1"
        records = [dict(zip(FEATURES, r, strict=True)) for r in ROWS]
        assert http.post("/invocations", json={"dataframe_records": records}).json() == split.json()
        csv = pd.DataFrame(ROWS, columns=FEATURES).to_csv(index=False)
        answer = http.post("/invocations", content=csv, headers={"Content-Type": "text/csv"})
        assert answer.json() == split.json()
        echoed = http.post(
            "/invocations", json={"instances": ROWS}, headers={"X-Request-Id": "x-1"}
        )
        assert echoed.headers["x-request-id"] == "x-1"
        assert http.get("/ping").status_code == 200


def _bad_input(served: LiveServe) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        big = http.post("/invocations", json={"instances": [[1.0, 2.0, 3.0, 4.0]] * 2000})
        assert big.status_code == 413
        assert big.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        missing = http.post(
            "/invocations", json={"dataframe_split": {"columns": ["a"], "data": [[1]]}}
        )
        assert missing.status_code == 400 and "'b'" in missing.json()["message"]
        invalid = http.post(
            "/invocations", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert invalid.status_code == 400
        unknown = http.post("/v2/models/nope/infer", json={"inputs": []})
        assert unknown.status_code == 404 and "nope" in unknown.json()["error"]


def _triton_inputs(rows: list[list[float]]) -> list[Any]:
    inputs = []
    for i, name in enumerate(FEATURES):
        tensor = triton.InferInput(name, [len(rows)], "FP64")
        tensor.set_data_from_numpy(np.array([r[i] for r in rows]), binary_data=False)
        inputs.append(tensor)
    return inputs


def _open_inference_v2_with_tritonclient(served: LiveServe) -> None:
    client = triton.InferenceServerClient(url=f"127.0.0.1:{served.port}")
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("iris")
        assert not client.is_model_ready("nope")
        meta = client.get_model_metadata("iris")
        assert [i["name"] for i in meta["inputs"]] == FEATURES
        result = client.infer(
            "iris",
            _triton_inputs(ROWS),
            outputs=[triton.InferRequestedOutput("predict", binary_data=False)],
            request_id="t-1",
        )
        assert result.as_numpy("predict").tolist() == _expected(ROWS)
        assert result.get_response()["id"] == "t-1"
        matrix = triton.InferInput("input", [3, 4], "FP32")
        matrix.set_data_from_numpy(np.array(ROWS, dtype=np.float32), binary_data=False)
        plain = client.infer("iris", [matrix])  # outputs asked as binary: answered as JSON
        assert plain.as_numpy("predict").tolist() == _expected(ROWS)
        wrong = triton.InferInput("a", [2], "FP64")
        wrong.set_data_from_numpy(np.array([1.0, 2.0]), binary_data=False)
        with pytest.raises(Exception, match="Missing input 'b'"):
            client.infer("iris", [wrong])
    finally:
        client.close()


def _metrics(served: LiveServe) -> None:
    text = httpx.get(f"{served.url}/metrics", timeout=10).text
    assert 'protocol="v2"' in text and 'protocol="mlflow"' in text
    assert "loopml_serving_batch_size_count" in text


def test_hot_reload_then_a_version_that_fails_to_load(served: LiveServe, iris_store: Store) -> None:
    """The alias moves under continuous requests; then it moves to a version that cannot load."""
    _hot_reload_while_requests_flow(served, iris_store)
    _failed_load_keeps_the_previous_version(served, iris_store)


def _hot_reload_while_requests_flow(served: LiveServe, iris_store: Store) -> None:
    failures: list[str] = []
    versions: list[str] = []
    predictions: dict[str, set[tuple[int, ...]]] = {}
    stop = threading.Event()
    body = {"dataframe_split": {"columns": FEATURES, "data": ROWS}}

    def hammer() -> None:
        with httpx.Client(base_url=served.url, timeout=10) as http:
            while not stop.is_set():
                try:
                    answer = http.post("/invocations", json=body)
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if answer.status_code != 200:
                    failures.append(answer.text)
                    continue
                version = answer.headers["x-model-version"]
                versions.append(version)
                predictions.setdefault(version, set()).add(tuple(answer.json()["predictions"]))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: len(versions) >= 20)
        iris_store.registry.set_alias("iris", "champion", 2)
        _wait_for(
            lambda: versions[-1] == "models:/iris/2" and versions.count("models:/iris/2") >= 20
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert failures == []
    assert versions[0] == "models:/iris/1"
    last_v1 = max(i for i, v in enumerate(versions) if v == "models:/iris/1")
    assert versions.count("models:/iris/2") > 0
    assert all(v == "models:/iris/2" for v in versions[last_v1 + 1 :])
    assert predictions["models:/iris/1"] == {tuple(_expected(ROWS))}
    assert predictions["models:/iris/2"] == {tuple(_expected(ROWS, flip=True))}


def _failed_load_keeps_the_previous_version(served: LiveServe, iris_store: Store) -> None:
    version = register(
        iris_store.client, "iris", untrusted_classifier(), pd.DataFrame(ROWS, columns=FEATURES)
    )
    before = httpx.get(f"{served.url}/health", timeout=10).json()["model_version"]
    iris_store.registry.set_alias("iris", "champion", version)
    _wait_for(lambda: "reason" in httpx.get(f"{served.url}/v2/health/ready", timeout=10).json())
    ready = httpx.get(f"{served.url}/v2/health/ready", timeout=10)
    assert ready.status_code == 200  # the previous version still serves
    status = ready.json()
    assert status["ready"] is True and status["model_version"] == before
    assert f"models:/iris/{version}" in status["reason"] and "Shift" in status["reason"]
    answer = httpx.post(f"{served.url}/invocations", json={"instances": ROWS}, timeout=10)
    assert answer.status_code == 200 and answer.headers["x-model-version"] == before


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
