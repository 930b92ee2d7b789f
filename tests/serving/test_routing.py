"""Canary and shadow routing, following a deployment record, and the prediction log seam."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pandas as pd
import pytest
from inprocess import InProcess
from serving_support import FEATURES, classifier, features, register

from conftest import CapturingSink, Store
from loopml.deployments import Deployments, read_predictions
from loopml.serving import ServeConfig, canary_share, create_serving_app
from loopml.serving._routing import Plan, Routing
from loopml.serving._served import ModelKey

ROW = [[0.5, 0.7, 0.0, 1.0]]


class _Named:
    def __init__(self, uri: str) -> None:
        self.key = ModelKey(uri, uri[-1], "m")


def test_canary_share_is_deterministic_and_close_to_the_weight() -> None:
    primary, canary = _Named("models:/m/1"), _Named("models:/m/2")
    plan = Plan(primary.key, canary.key, 0.3)
    routing = Routing(plan, primary, canary)  # type: ignore[arg-type]
    ids = [f"request-{i}" for i in range(1000)]
    roles = [routing.choose(i)[1] for i in ids]
    share = roles.count("canary") / len(ids)
    assert 0.25 <= share <= 0.35
    assert roles == [routing.choose(i)[1] for i in ids]  # same id, same model
    assert all(0.0 <= canary_share(i) < 1.0 for i in ids)
    assert all(
        routing.choose(i)[0] is (canary if r == "canary" else primary)
        for i, r in zip(ids, roles, strict=True)
    )
    no_canary = Routing(Plan(primary.key, canary.key, 0.0), primary, canary)  # type: ignore[arg-type]
    assert {no_canary.choose(i)[1] for i in ids} == {"primary"}


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def other_model(iris_store: Store) -> str:
    """A registered model with other columns: fed the iris columns, it raises."""
    renamed = features().rename(columns=dict(zip(FEATURES, "wxyz", strict=True)))
    model = classifier().fit(renamed, (renamed.w > 0).astype(int))
    register(iris_store.client, "other", model, renamed[:5])
    return "models:/other/1"


def test_a_deployment_splits_traffic_and_shadows_without_affecting_callers(
    iris_store: Store, other_model: str
) -> None:
    deployments = Deployments(iris_store.client)
    name = f"dep-{uuid.uuid4().hex[:8]}"
    deployments.create(
        name,
        "models:/iris/1",
        canary_uri="models:/iris/2",
        canary_weight=0.3,
        shadow_uri=other_model,
    )
    sink = CapturingSink()
    config = ServeConfig(deployment=name, reload_interval=0.2)
    app = create_serving_app(config, client=iris_store.client, sink=sink)
    ids = [f"r{i}" for i in range(60)]
    with InProcess(app) as server:
        assert server.get(f"/v2/models/{name}").status_code == 200
        answers = {
            i: server.post(
                "/invocations",
                json={"dataframe_split": {"columns": FEATURES, "data": ROW}},
                headers={"X-Request-Id": i},
            )
            for i in ids
        }
        _wait_for(lambda: sum(e.role == "shadow" for e in sink.entries) == len(ids))
        # the record changes: the next reload follows it (canary off, no shadow)
        deployments.update(name, canary_uri=None, canary_weight=0.0, shadow_uri=None)
        _wait_for(lambda: server.get("/health").json().get("canary") is None)
        after = server.post(
            "/invocations", json={"dataframe_split": {"columns": FEATURES, "data": ROW}}
        )
    v1, v2 = (
        classifier(flip).predict(pd.DataFrame(ROW, columns=FEATURES)).tolist()
        for flip in (False, True)
    )
    for i, answer in answers.items():
        assert answer.status_code == 200, answer.text  # the failing shadow never shows
        canary = canary_share(i) < 0.3
        assert answer.headers["x-model-version"] == (
            "models:/iris/2" if canary else "models:/iris/1"
        )
        assert answer.json()["predictions"] == (v2 if canary else v1)
    assert after.headers["x-model-version"] == "models:/iris/1"
    shadows = [e for e in sink.entries if e.role == "shadow"]
    assert {e.request_id for e in shadows} == set(ids)
    assert all(e.error and "'w'" in e.error and e.outputs == [] for e in shadows)
    served = {e.request_id: e for e in sink.entries if e.role != "shadow"}
    assert set(ids) <= set(served)
    entry = served["r0"]
    assert entry.deployment == name
    assert entry.inputs == {c: [v] for c, v in zip(FEATURES, ROW[0], strict=True)}
    assert entry.role == ("canary" if canary_share("r0") < 0.3 else "primary")
    assert entry.outputs == (v2 if entry.role == "canary" else v1)


def test_the_log_sample_is_decided_by_request_id(iris_store: Store) -> None:
    sink = CapturingSink()
    config = ServeConfig(model_uri="models:/iris/1", log_sample_rate=0.5)
    app = create_serving_app(config, client=iris_store.client, sink=sink)
    with InProcess(app) as server:
        for i in range(100):
            body = {"instances": ROW}
            server.post("/invocations", json=body, headers={"X-Request-Id": f"s{i}"})
    logged = {e.request_id for e in sink.entries}
    assert 25 <= len(logged) <= 75
    assert all(e.role == "primary" for e in sink.entries)


def test_predictions_reach_the_deployment_prediction_log(iris_store: Store) -> None:
    name = f"log-{uuid.uuid4().hex[:8]}"
    config = ServeConfig(model_uri="models:/iris/1", name=name)
    app = create_serving_app(config, client=iris_store.client)  # the real PredictionLogger
    rows = [[0.5, 0.7, 0.0, 1.0], [-2.0, -1.0, 0.3, 0.0]]
    with InProcess(app) as server:
        for i in range(5):
            answer = server.post(
                "/invocations",
                json={"dataframe_split": {"columns": FEATURES, "data": rows}},
                headers={"X-Request-Id": f"log-{i}"},
            )
            assert answer.status_code == 200
    # closing the app flushed the log
    frame = read_predictions(name, client=iris_store.client, with_labels=False)
    assert len(frame) == 10  # one row per predicted row
    assert set(frame["request_id"]) == {f"log-{i}" for i in range(5)}
    assert set(frame["role"]) == {"primary"} and set(frame["model_version"]) == {"1"}
    first = frame[frame["request_id"] == "log-0"].sort_values("row")
    assert first["input.a"].tolist() == [0.5, -2.0]
    assert (
        first["prediction"].tolist()
        == classifier().predict(pd.DataFrame(rows, columns=FEATURES)).tolist()
    )
