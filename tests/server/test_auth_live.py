"""``loopml server --auth`` as users run it: the mlflow client, the SDK and ``loopml login``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import pytest
from auth_support import ADMIN, BOB, basic
from live_server import LOOPML, LiveServer, free_port, live_server
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from loopml.cli import app as cli_app
from loopml.core.credentials import credentials_path, read_credentials
from loopml.core.errors import Unauthenticated
from loopml.core.settings import Settings
from loopml.governance import Governance
from loopml.tracking import Client
from loopml.tracking._rest import RestTrackingStore
from mlflow_env import clean_mlflow_env


def _seed(tracking_uri: str, objects: Path) -> None:
    client = Client(tracking_uri, object_store_uri=str(objects))
    try:
        gov = Governance(client)
        gov.create_admin(*ADMIN)
        gov.create_user(*BOB)
        gov.add_member("default", "bob", "editor")
    finally:
        client.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("auth-live")
    uri = f"sqlite:///{home / 'server.db'}"
    _seed(uri, home / "objects")
    with live_server(home, uri, extra_args=("--auth",)) as running:
        yield running


@pytest.fixture
def admin_gov(server: LiveServer) -> Iterator[Governance]:
    client = Client(server.tracking_uri, object_store_uri=server.object_store_uri)
    yield Governance(client)
    client.close()


@pytest.fixture(autouse=True)
def _mlflow_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from clean_mlflow_env(monkeypatch)


def test_server_refuses_auth_without_an_admin(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(tmp_path), COLUMNS="200")
    done = subprocess.run(
        [
            LOOPML,
            "server",
            "--auth",
            "--port",
            str(free_port()),
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'empty.db'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert "no admin user: run `loopml users create-admin NAME` first" in done.stderr
    assert "Traceback" not in done.stderr


def _log_a_run(tmp_path: Path, name: str) -> str:
    client = MlflowClient()
    experiment_id = client.create_experiment(name)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("loss", 0.25)
        artifact = tmp_path / "notes.txt"
        artifact.write_text("uploaded through the auth middleware\n")
        mlflow.log_artifact(str(artifact))
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"alpha": "0.5"}
    assert got.data.metrics == {"loss": 0.25}
    path = client.download_artifacts(run.info.run_id, "notes.txt", str(tmp_path / "back"))
    assert Path(path).read_text() == "uploaded through the auth middleware\n"
    return run.info.run_id


def test_mlflow_client_with_a_token(
    server: LiveServer, admin_gov: Governance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow.set_tracking_uri(server.url)
    with pytest.raises(MlflowException, match="Authentication required"):
        MlflowClient().search_experiments()
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", admin_gov.create_token("bob", "mlflow").secret)
    _log_a_run(tmp_path, "mlflow-bearer")


def test_mlflow_client_with_user_and_password(
    server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow.set_tracking_uri(server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", BOB[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-bobs-password")
    with pytest.raises(MlflowException, match="Invalid user name or password"):
        MlflowClient().search_experiments()
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", BOB[1])
    _log_a_run(tmp_path, "mlflow-basic")


def test_sdk_with_loopml_tracking_token(
    server: LiveServer, admin_gov: Governance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous = RestTrackingStore(server.url, settings=Settings(home=tmp_path / "nobody"))
    with pytest.raises(Unauthenticated, match=r"loopml login --server .*LOOPML_TRACKING_TOKEN"):
        anonymous.search_experiments()
    monkeypatch.setenv("LOOPML_TRACKING_TOKEN", admin_gov.create_token("bob", "sdk").secret)
    client = Client(
        server.url, settings=Settings(home=tmp_path / "sdk", flush_interval_seconds=0.2)
    )
    try:
        experiment_id = client.create_experiment("sdk-with-token")
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "acc", 0.9)
        client.flush()
        assert client.get_run(run.info.run_id).data.metrics["acc"] == 0.9
    finally:
        client.close()


def _cli(home: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(
        cli_app, list(args), input=stdin, env={"LOOPML_HOME": str(home), "COLUMNS": "200"}
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    return result.exit_code, output


def test_loopml_login_stores_a_private_token(server: LiveServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, output = _cli(home, "login", "--server", server.url, "-u", "bob", stdin="wrong-one\n")
    assert code == 1 and "Invalid user name or password" in output
    assert not credentials_path(home).exists()
    code, output = _cli(
        home, "login", "--server", server.url + "/", "-u", "bob", stdin=BOB[1] + "\n"
    )
    assert code == 0, output
    assert f"Logged in to {server.url} as bob" in output
    path = credentials_path(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = json.loads(path.read_text())[server.url]
    assert token.startswith("lmt_")
    store = RestTrackingStore(server.url, settings=Settings(home=home))
    try:
        assert store.call("GET", "/auth/whoami")["user"] == {
            "name": "bob",
            "kind": "human",
            "is_admin": False,
            "via": "token",
            "token_id": token.split("_")[1],
        }
    finally:
        store.close()
    code, output = _cli(home, "logout", "--server", server.url)
    assert code == 0 and "Logged out" in output
    assert read_credentials(home) == {}
    whoami = f"{server.url}/api/v1/auth/whoami"
    refused = httpx.get(whoami, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    assert httpx.get(whoami, headers=basic(*BOB), timeout=30).status_code == 200


def test_loopml_login_with_a_token_from_stdin(
    server: LiveServer, admin_gov: Governance, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    code, output = _cli(home, "login", "--server", server.url, "--token-stdin", stdin="lmt_bad\n")
    assert code == 1 and "Malformed API token" in output
    token = admin_gov.create_token("bob", "ci").secret
    code, output = _cli(home, "login", "--server", server.url, "--token-stdin", stdin=token + "\n")
    assert code == 0, output
    assert read_credentials(home) == {server.url: token}
    code, output = _cli(home, "login", "--token-stdin", stdin=token + "\n")
    assert code == 1 and "Which server?" in output
    code, output = _cli(home, "login", "--server", "ftp://x", "--token-stdin", stdin=token)
    assert code == 1 and "is not http(s)" in output
