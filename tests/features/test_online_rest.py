"""``POST /api/v1/features/online`` on a live ``loopml server``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from online_support import DEFINITIONS, HERE, model_service, write_rows

from loopml.core.errors import NotFound
from loopml.core.settings import Settings
from loopml.features._online_remote import RemoteOnlineFeatures, open_online_features
from loopml.features._online_service import OnlineFeatures
from loopml.features._online_sqlite import SqliteOnlineStore
from loopml.features._registry import FeatureRegistry
from loopml.tracking import Client
from server.live_server import LiveServer, live_server

URL = "/api/v1/features/online"
LOOPML = str(Path(sys.executable).with_name("loopml"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("features-server")
    # the on-demand transformation lives beside these tests: the server must import it
    with live_server(home, extra_env={"PYTHONPATH": str(HERE)}) as running:
        client = Client(running.tracking_uri, settings=Settings(home=home / "sdk"))
        FeatureRegistry(client).apply(DEFINITIONS)
        client.close()
        online = SqliteOnlineStore(Path(home) / "features_online.db")  # the server's default
        write_rows(online, int(time.time() * 1000))
        online.close()
        yield running


def test_features_for_entity_rows(server: LiveServer) -> None:
    answer = httpx.post(
        server.url + URL,
        json={
            "features": ["stats:spend", "profile:age"],
            "entity_rows": [{"customer_id": 3}, {"customer_id": 1}, {"customer_id": 4}],
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["features"] == ["spend", "age"]
    assert body["rows"] == 3
    assert body["values"] == {"spend": [30.0, 10.0, None], "age": [33, 41, None]}
    assert body["event_timestamps_ms"]["age"] == [7, 5, None]
    assert body["stale"] == {"spend": [True, False, False], "age": [False, False, False]}


def test_a_service_with_request_data_and_columns(server: LiveServer) -> None:
    answer = httpx.post(
        server.url + URL,
        json={
            "feature_service": "with_ratio",
            "entities": {"customer_id": [1, 2]},
            "request_data": {"amount": [5.0, 5.0]},
            "full_feature_names": True,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["values"] == {
        "stats__spend": [10.0, 20.0],
        "ratios__amount_ratio": [0.5, 0.25],
    }


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"entity_rows": [{"customer_id": 1}]}, 400, "exactly one of 'features'"),
        ({"features": ["stats:spend"]}, 400, "exactly one of 'entity_rows'"),
        ({"features": ["stats"], "entity_rows": [{"customer_id": 1}]}, 400, "'view:feature'"),
        ({"features": ["stats:spend"], "entity_rows": [{"user": 1}]}, 400, "join key"),
        ({"feature_service": "ghost", "entities": {"customer_id": [1]}}, 404, "'ghost'"),
        ({"features": "stats:spend", "entities": {"customer_id": [1]}}, 400, "features"),
        ({"features": ["stats:spend"], "entities": {}, "extra": 1}, 400, "extra"),
    ],
)
def test_bad_requests_are_named(
    server: LiveServer, body: dict[str, object], status: int, message: str
) -> None:
    answer = httpx.post(server.url + URL, json=body, timeout=10)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["message"]


def test_deployments_carry_a_feature_service_over_rest_and_cli(server: LiveServer) -> None:
    created = httpx.post(
        server.url + "/api/v1/deployments",
        json={"name": "fs-rest", "model_uri": "models:/m/1", "feature_service": "model_v1"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    assert created.json()["deployment"]["feature_service"] == "model_v1"
    cleared = httpx.patch(
        server.url + "/api/v1/deployments/fs-rest", json={"feature_service": None}, timeout=10
    )
    assert cleared.json()["deployment"]["feature_service"] is None
    env = {"LOOPML_HOME": str(server.home / "cli"), "PATH": "/usr/bin:/bin"}
    made = subprocess.run(
        [LOOPML, "--tracking-uri", server.url, "deployments", "create", "fs-cli", "--model",
         "models:/m/1", "--feature-service", "model_v1", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["feature_service"] == "model_v1"
    shown = subprocess.run(
        [LOOPML, "--tracking-uri", server.url, "deployments", "show", "fs-cli"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert "feature service: model_v1" in shown.stdout
    updated = subprocess.run(
        [LOOPML, "--tracking-uri", server.url, "deployments", "update", "fs-cli",
         "--no-feature-service", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["feature_service"] is None


def test_remote_lookups_match_embedded_ones(server: LiveServer, tmp_path: Path) -> None:
    remote_client = Client(server.url, settings=Settings(home=tmp_path / "home"))
    remote = open_online_features(remote_client)
    assert isinstance(remote, RemoteOnlineFeatures)
    rows = [{"customer_id": 1}, {"customer_id": 3}, {"customer_id": 9}]
    answer = remote.get_online(model_service, rows)
    embedded_client = Client(server.tracking_uri, settings=Settings(home=server.home))
    embedded = open_online_features(embedded_client)
    assert isinstance(embedded, OnlineFeatures)
    expected = embedded.get_online("model_v1", rows)
    assert answer.features == expected.features == ("spend", "orders", "age")
    assert answer.values == expected.values
    assert answer.event_ts_ms == expected.event_ts_ms and answer.stale == expected.stale
    with pytest.raises(NotFound, match="ghost"):
        remote.get_online(["ghost:x"], rows)
    embedded.close()
    embedded_client.close()
    remote_client.close()
