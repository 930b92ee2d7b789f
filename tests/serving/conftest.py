"""Fixtures of the serving tests: one store per module with a registered model ``iris``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from serving_support import classifier, features, make_client, register

from loopml.registry import Registry
from loopml.serving import LogEntry
from loopml.tracking import Client


@dataclass
class Store:
    root: Path
    client: Client
    registry: Registry


@pytest.fixture(scope="module")
def iris_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A SQLite store with ``iris`` v1 (champion) and v2 (the opposite labels)."""
    root = tmp_path_factory.mktemp("serving")
    client = make_client(root)
    register(client, "iris", classifier(), features()[:5])
    register(client, "iris", classifier(flip=True), features()[:5])
    registry = Registry(client)
    registry.set_alias("iris", "champion", 1)
    yield Store(root, client, registry)
    client.close()


class CapturingSink:
    """A prediction sink that keeps what it is given (the seam the server logs through)."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def record(self, entry: LogEntry) -> bool:
        self.entries.append(entry)
        return True

    @property
    def dropped(self) -> int:
        return 0

    @property
    def queue_depth(self) -> int:
        return 0

    def close(self, timeout: float = 10.0) -> None:
        return None
