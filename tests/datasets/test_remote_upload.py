"""Through a server, only the objects it lacks travel; large contents arrive whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from datasets_support import unique, write_tree

from loopml.core.settings import Settings
from loopml.datasets import Datasets
from loopml.objects import open_object_store
from loopml.tracking import Client
from server.live_server import LiveServer


class Recorder:
    """A ``loopml.data`` progress that counts the units each phase advanced."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self._phase = ""

    def start(self, description: str, total: int | None, unit: str = "files") -> None:
        self._phase = description
        self.done.setdefault(description, 0)

    def advance(self, amount: int = 1) -> None:
        self.done[self._phase] += amount

    def finish(self) -> None:
        return None

    def uploaded(self) -> int:
        return self.done.get("Uploading to the server", 0)


@pytest.fixture
def remote(datasets_server: LiveServer, tmp_path: Path) -> Iterator[Datasets]:
    client = Client(datasets_server.url, settings=Settings(home=tmp_path / "home"))
    yield Datasets(client)
    client.close()


def test_only_missing_objects_are_uploaded(remote: Datasets, tmp_path: Path) -> None:
    files = {f"part-{i}.bin": os.urandom(1000) for i in range(5)}
    folder = write_tree(tmp_path / "parts", files)
    first = Recorder()
    v1 = remote.register(unique("parts"), folder, progress=first)
    assert first.uploaded() == 5
    (folder / "part-3.bin").write_bytes(os.urandom(1000))
    second = Recorder()
    v2 = remote.register(v1.name, folder, progress=second)
    assert v2.version == 2 and second.uploaded() == 1  # the one changed file
    third = Recorder()
    assert remote.register(unique("copy"), folder, progress=third).content_id == v2.content_id
    assert third.uploaded() == 0


def test_a_chunked_content_arrives_whole(
    remote: Datasets, datasets_server: LiveServer, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # above the 8 MiB chunking threshold
    v = remote.register(unique("big"), big)
    served = open_object_store(datasets_server.object_store_uri)
    assert served.stat(v.content_id).chunked
    assert served.get_bytes(v.content_id) == big.read_bytes()
