"""Serving with a feature service: requests carry entity keys, the server looks features up.

A real ``loopml serve`` subprocess on a free port follows a deployment that
names a feature service; the prediction log records the feature values the
model saw. In-process checks cover the online store being down.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from inprocess import InProcess
from serving_support import free_port, live_serve, make_client, register
from sklearn.linear_model import LinearRegression

from loopml.core.settings import Settings
from loopml.deployments import Deployments, read_predictions
from loopml.features._definitions import Entity, FeatureService, FeatureView, Field, FileSource
from loopml.features._online_sqlite import SqliteOnlineStore
from loopml.features._registry import FeatureRegistry
from loopml.registry import Registry
from loopml.serving import ServeConfig, create_serving_app
from loopml.tracking import Client

customer = Entity("customer", ("customer_id",))
stats = FeatureView(
    name="stats",
    entities=(customer,),
    schema=(Field("spend", "float64"), Field("orders", "int64"), Field("note", "string")),
    source=FileSource("stats.parquet", "event_timestamp"),
)
scoring = FeatureService("scoring", (stats[["spend", "orders"]],))
INPUTS = ["spend", "orders", "amount"]  # two features and one request field


def _expected(spend: float, orders: int, amount: float) -> float:
    return 2.0 * spend + 3.0 * orders + amount


@dataclass
class FeatureStore:
    root: Path
    client: Client


@pytest.fixture(scope="module")
def feature_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeatureStore]:
    root = tmp_path_factory.mktemp("feature-serving")
    client = make_client(root)
    rng = np.random.RandomState(0)
    train = pd.DataFrame(rng.rand(50, 3) * 10, columns=INPUTS)
    target = _expected(train.spend, train.orders, train.amount)  # type: ignore[arg-type]
    register(client, "scorer", LinearRegression().fit(train, target), train[:5])
    Registry(client).set_alias("scorer", "champion", 1)
    FeatureRegistry(client).apply([customer, stats, scoring])
    online = SqliteOnlineStore(root / "home" / "features_online.db")  # the server's default
    online.write(
        "stats",
        [(1,), (2,)],
        {"spend": [10.0, 20.0], "orders": [1, 2], "note": ["x", "y"]},
        [1000, 2000],
    )
    online.close()
    yield FeatureStore(root, client)
    client.close()


def test_a_deployment_with_a_feature_service_over_http(feature_store: FeatureStore) -> None:
    deployments = Deployments(feature_store.client)
    created = deployments.create("fs-live", "models:/scorer@champion", feature_service="scoring")
    assert created.feature_service == "scoring"
    args = ["--deployment", "fs-live"]
    with (
        live_serve(feature_store.root, args, free_port()) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        answer = http.post(
            "/invocations",
            json={"dataframe_records": [{"customer_id": 2, "amount": 1.5}]},
            headers={"X-Request-Id": "fs-1"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == pytest.approx([_expected(20.0, 2, 1.5)])
        split = http.post(
            "/invocations",
            json={
                "dataframe_split": {
                    "columns": ["customer_id", "amount"],
                    "data": [[1, 0.0], [2, 4.0], [1, 1.0]],
                }
            },
            headers={"X-Request-Id": "fs-2"},
        )
        assert split.status_code == 200, split.text
        assert split.json()["predictions"] == pytest.approx(
            [_expected(10, 1, 0.0), _expected(20, 2, 4.0), _expected(10, 1, 1.0)]
        )
        tensor = http.post("/invocations", json={"instances": [[1, 2.0]]})
        assert tensor.status_code == 400
        assert "feature service 'scoring'" in tensor.json()["message"]
        no_amount = http.post("/invocations", json={"dataframe_records": [{"customer_id": 1}]})
        assert no_amount.status_code == 400
        assert "'amount'" in no_amount.json()["message"]
        no_key = http.post("/invocations", json={"dataframe_records": [{"amount": 1.0}]})
        assert no_key.status_code == 400
        assert "join key 'customer_id'" in no_key.json()["message"]
        v2 = http.post(
            "/v2/models/fs-live/infer",
            json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]},
        )
        assert v2.status_code == 400 and "/invocations" in v2.json()["error"]
    # the server flushed its prediction log on shutdown: keys, request fields and features
    frame = read_predictions("fs-live", client=feature_store.client, with_labels=False)
    logged = frame[frame["request_id"] == "fs-2"].sort_values("row")
    assert logged["input.customer_id"].tolist() == [1, 2, 1]
    assert logged["input.spend"].tolist() == [10.0, 20.0, 10.0]
    assert logged["input.orders"].tolist() == [1, 2, 1]
    assert logged["input.amount"].tolist() == [0.0, 4.0, 1.0]


def test_serve_option_and_an_unknown_service(feature_store: FeatureStore) -> None:
    args = ["models:/scorer@champion", "--feature-service", "scoring", "--no-prediction-log"]
    with live_serve(feature_store.root, args, free_port()) as server:
        answer = httpx.post(
            f"{server.url}/invocations",
            json={"inputs": {"customer_id": [1], "amount": [2.0]}},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == pytest.approx([_expected(10, 1, 2.0)])
    with (
        pytest.raises(RuntimeError, match="'ghost'"),
        live_serve(
            feature_store.root,
            ["models:/scorer@champion", "--feature-service", "ghost"],
            free_port(),
            timeout=30,
        ),
    ):
        pass


def test_deployment_field_round_trips(feature_store: FeatureStore) -> None:
    deployments = Deployments(feature_store.client)
    deployments.create("fs-field", "models:/scorer/1")
    assert deployments.get("fs-field").feature_service is None
    assert deployments.update("fs-field", feature_service="scoring").feature_service == "scoring"
    assert deployments.update("fs-field", description="d").feature_service == "scoring"
    assert deployments.update("fs-field", feature_service=None).feature_service is None
    with pytest.raises(Exception, match="feature service name"):
        deployments.update("fs-field", feature_service="bad name!")


def test_online_store_down_answers_503_quickly(feature_store: FeatureStore) -> None:
    settings = Settings(
        home=feature_store.root / "home",
        features_online=f"redis://127.0.0.1:{free_port()}/0",
    )
    client = Client(
        f"sqlite:///{feature_store.root / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(feature_store.root / "objects"),
    )
    config = ServeConfig(
        model_uri="models:/scorer/1", feature_service="scoring", prediction_log=False
    )
    with InProcess(create_serving_app(config, client=client)) as server:
        _wait_ready(server)
        answer = server.post(
            "/invocations", json={"dataframe_records": [{"customer_id": 1, "amount": 1.0}]}
        )
        assert answer.status_code == 503
        assert "unavailable" in answer.json()["message"]
    client.close()


def test_a_model_without_signature_names_gets_the_service_features(
    feature_store: FeatureStore,
) -> None:
    rng = np.random.RandomState(1)
    train = rng.rand(30, 2)
    model = LinearRegression().fit(train, train @ np.array([1.0, -1.0]))
    register(feature_store.client, "bare", model, train[:3])  # an array: no column names
    config = ServeConfig(
        model_uri="models:/bare/1", feature_service="scoring", prediction_log=False
    )
    with InProcess(create_serving_app(config, client=feature_store.client)) as server:
        _wait_ready(server)
        answer = server.post("/invocations", json={"dataframe_records": [{"customer_id": 2}]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == pytest.approx([20.0 - 2.0])


def _wait_ready(server: InProcess) -> None:
    deadline = time.monotonic() + 30
    while server.get("/ping").status_code != 200:
        assert time.monotonic() < deadline, "the model did not load"
        time.sleep(0.05)
