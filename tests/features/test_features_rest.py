"""Feature definitions through a live ``loopml server``: the remote SDK, raw REST, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from feature_defs_support import STATS, all_definitions

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.features._registry import FeatureRegistry
from loopml.features._registry_base import ApplyResult
from loopml.features._remote import RemoteFeatureRegistry, open_registry
from loopml.tracking import Client
from server.live_server import LiveServer, live_server

LOOPML = str(Path(sys.executable).with_name("loopml"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server") as running:
        yield running


@pytest.fixture
def remote(server: LiveServer, tmp_path: Path) -> Iterator[RemoteFeatureRegistry]:
    client = Client(server.url, settings=Settings(home=tmp_path / "home"))
    registry = open_registry(client)
    assert isinstance(registry, RemoteFeatureRegistry)
    yield registry
    client.close()


def test_open_registry_picks_the_server_for_an_http_uri(
    remote: RemoteFeatureRegistry, tmp_path: Path
) -> None:
    # The shared suite (test_feature_registry.py) runs the remote registry through
    # every behaviour; here: the choice, and what the server's API shows of an apply.
    assert remote.apply(all_definitions())[-1] == ApplyResult(
        "feature_service", "model_v1", 1, True
    )
    embedded = Client(f"sqlite:///{tmp_path / 'local.db'}", settings=Settings(home=tmp_path))
    assert isinstance(open_registry(embedded), FeatureRegistry)
    embedded.close()
    listed = httpx.get(f"{remote.client.tracking_uri}/api/v1/features/definitions").json()
    assert [(d["kind"], d["name"], d["version"]) for d in listed["definitions"]] == [
        ("entity", "customer", 1),
        ("feature_service", "model_v1", 1),
        ("feature_view", "stats", 1),
        ("on_demand_feature_view", "net_amount", 1),
    ]
    assert listed["definitions"][2]["spec"] == STATS.spec()


def test_the_embedded_registry_refuses_a_server_uri(remote: RemoteFeatureRegistry) -> None:
    with pytest.raises(InvalidArgument, match="open_registry"):
        FeatureRegistry(remote.client)


def test_bad_requests_are_400s_with_a_message(server: LiveServer) -> None:
    api = f"{server.url}/api/v1/features"
    extra = httpx.post(f"{api}/apply", json={"definitions": [], "code": "import os"})
    assert extra.status_code == 400
    kind = httpx.post(
        f"{api}/apply", json={"definitions": [{"kind": "table", "name": "t", "spec": {}}]}
    )
    assert kind.status_code == 400 and "Unknown definition kind 'table'" in kind.text
    malformed = httpx.post(
        f"{api}/apply",
        json={"definitions": [{"kind": "entity", "name": "e", "spec": {"keys": ["a"]}}]},
    )
    assert malformed.status_code == 400 and "has no 'join_keys'" in malformed.text
    orphan = httpx.post(
        f"{api}/apply",
        json={"definitions": [{"kind": "feature_view", "name": "v", "spec": STATS.spec()}]},
    )
    assert orphan.status_code == 400
    assert "Feature view 'v' references unknown entity 'customer'" in orphan.text
    assert httpx.get(f"{api}/definitions/view/nothing").status_code == 404
    assert httpx.get(f"{api}/definitions/view/stats", params={"version": 0}).status_code in (
        400,
        422,
    )
    negative = httpx.post(
        f"{api}/materializations", json={"view": "v", "start_ms": 0, "end_ms": 1, "rows": -1}
    )
    assert negative.status_code == 400


def test_the_cli_applies_and_lists_through_the_server(server: LiveServer, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "cli_defs.py").write_text(
        textwrap.dedent(
            """
            from loopml.features._definitions import Entity, FeatureView, Field, FileSource

            user = Entity("user", ("user_id",))
            clicks = FeatureView(
                "clicks", (user,), (Field("n", "int64"),), FileSource("c.parquet", "ts")
            )
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(tmp_path / "cli-home"), COLUMNS="200")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LOOPML, "--tracking-uri", server.url, "features", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    applied = cli("apply", str(repo))
    assert applied.returncode == 0, applied.stderr
    assert "clicks" in applied.stdout and "new" in applied.stdout
    listed = cli("list")
    assert "join keys user_id" in listed.stdout and "n:int64 of user" in listed.stdout
    shown = cli("show", "clicks", "--kind", "view")
    assert "feature_view clicks version 1 of 1" in shown.stdout
