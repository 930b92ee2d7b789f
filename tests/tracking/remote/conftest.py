"""Fixtures for the SDK in remote mode: real ``loopml server`` processes on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import loopml as lm
from loopml.core.settings import Settings
from loopml.tracking import Client, _fluent
from server.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server on SQLite shared by the tests of one module."""
    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of this test's own (to stop, restart or inspect)."""
    with live_server(tmp_path / "server") as running:
        yield running


@pytest.fixture
def remote_settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", flush_interval_seconds=0.05)


@pytest.fixture
def client(module_server: LiveServer, remote_settings: Settings) -> Iterator[Client]:
    """Overrides the embedded ``client``: the same tests, through a server."""
    remote = Client(module_server.url, settings=remote_settings)
    yield remote
    remote.close()


@pytest.fixture
def fluent(module_server: LiveServer, tmp_path: Path) -> Iterator[str]:
    """Overrides the embedded ``fluent``: the fluent SDK pointed at a server."""
    lm.set_tracking_uri(module_server.url)
    yield module_server.url
    while lm.active_run() is not None:
        lm.end_run()
    _fluent.get_client().close()
    lm.set_tracking_uri(f"sqlite:///{tmp_path / 'unused.db'}")
