"""The dataset suite runs three times: on SQLite, on PostgreSQL and through a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.core.settings import Settings
from loopml.datasets import Datasets
from loopml.objects import ObjectStore, open_object_store
from loopml.tracking import Client
from server.live_server import LiveServer, live_server


@pytest.fixture(scope="session")
def datasets_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``loopml server`` on SQLite per test worker (tests use unique names)."""
    with live_server(tmp_path_factory.mktemp("datasets-server")) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgres", "server"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Client]:
    """A client of a clean store in each mode; each has its own LOOPML_HOME."""
    settings = Settings(home=tmp_path / "home", flush_interval_seconds=0.2)
    if mode == "server":
        server: LiveServer = request.getfixturevalue("datasets_server")
        tracking = Client(server.url, settings=settings)
    else:
        uri = (
            f"sqlite:///{tmp_path / 'loopml.db'}"
            if mode == "sqlite"
            else str(request.getfixturevalue("postgres_uri"))
        )
        tracking = Client(uri, settings=settings, object_store_uri=str(tmp_path / "objects"))
    yield tracking
    tracking.close()


@pytest.fixture
def datasets(client: Client) -> Datasets:
    return Datasets(client)


@pytest.fixture
def content_store(mode: str, client: Client, request: pytest.FixtureRequest) -> ObjectStore:
    """The object store where registered content must land (and ``gc`` keeps it)."""
    if mode == "server":
        server: LiveServer = request.getfixturevalue("datasets_server")
        return open_object_store(server.object_store_uri)
    return client.objects
