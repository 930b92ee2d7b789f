"""The registry through a live ``loopml server`` (remote mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.core.settings import Settings
from loopml.registry import Registry
from loopml.tracking import Client
from server.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server on SQLite shared by the tests of one module."""
    with live_server(tmp_path_factory.mktemp("registry-server")) as running:
        yield running


@pytest.fixture
def client(registry_server: LiveServer, tmp_path: Path) -> Iterator[Client]:
    """Overrides the embedded ``client``: the same tests, through the server."""
    remote = Client(registry_server.url, settings=Settings(home=tmp_path / "home"))
    yield remote
    remote.close()


@pytest.fixture
def registry(client: Client) -> Registry:
    return Registry(client, user="alice")
