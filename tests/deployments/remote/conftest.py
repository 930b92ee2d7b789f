"""Deployments and the prediction log through a live ``loopml server`` (remote mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.core.settings import Settings
from loopml.deployments import Deployments
from loopml.tracking import Client
from server.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def deployments_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("deployments-server")) as running:
        yield running


@pytest.fixture
def client(deployments_server: LiveServer, tmp_path: Path) -> Iterator[Client]:
    """Overrides the embedded ``client``: the same tests, through the server."""
    remote = Client(deployments_server.url, settings=Settings(home=tmp_path / "home"))
    yield remote
    remote.close()


@pytest.fixture
def deployments(client: Client) -> Deployments:
    return Deployments(client)
