"""The deployments service over an embedded SQLite store (the store suite covers PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.core.settings import Settings
from loopml.deployments import Deployments
from loopml.tracking import Client


@pytest.fixture
def client(tmp_path: Path, settings: Settings) -> Iterator[Client]:
    tracking = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )
    yield tracking
    tracking.close()


@pytest.fixture
def deployments(client: Client) -> Deployments:
    return Deployments(client)
