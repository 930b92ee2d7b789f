"""The pipelined put of large contents: same result as one-shot chunking, bounded, fail-safe."""

from __future__ import annotations

import io
import json
import random
import threading
from pathlib import Path

import fsspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from objects_support import LocalRaw, Trickle, object_key

from loopml.core.errors import StorageError
from loopml.core.hashing import hash_bytes
from loopml.objects import ObjectStore
from loopml.objects._chunking import ChunkParams, split_buffer
from loopml.objects._fs import Backend, FsspecBackend, LocalBackend
from loopml.objects._pack_file import PackFile

# Tiny buffers: a few hundred KiB of content spans dozens of recycled buffers.
SMALL = ChunkParams(min_size=256, avg_size=1024, max_size=4096, buffer_size=8192)


def _store(root: Path, backend: Backend | None = None) -> ObjectStore:
    backend = backend or LocalBackend(str(root))
    return ObjectStore(backend, uri=str(root), chunking_threshold=2000, chunk_params=SMALL)


def _manifest_chunks(root: Path, object_id: str) -> list[tuple[str, int]]:
    body = json.loads(LocalRaw(root).read(object_key("manifests", object_id)))
    return [(c, n) for c, n in body["chunks"]]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), size=st.integers(2001, 300_000), step=st.integers(1, 70_000))
def test_pipelined_puts_equal_one_shot_chunking(
    tmp_path_factory: pytest.TempPathFactory, seed: int, size: int, step: int
) -> None:
    root = tmp_path_factory.mktemp("store")
    store = _store(root)
    data = random.Random(seed).randbytes(size)
    src = root.parent / f"{root.name}.bin"
    src.write_bytes(data)
    info = store.put_file(src)
    expected = [(hash_bytes(c), len(c)) for c in split_buffer(memoryview(data), SMALL)]
    # Above the threshold but cut nowhere (one chunk): stored plain, as the one chunk.
    assert (info.id, info.size, info.chunked) == (hash_bytes(data), size, len(expected) > 1)
    if info.chunked:
        assert _manifest_chunks(root, info.id) == expected
    assert store.put_stream(Trickle(data, step)) == info  # type: ignore[arg-type]
    assert store.put_bytes(data) == info.id
    assert store.get_bytes(info.id) == data


class FullDisk(FsspecBackend):
    """A real directory, through fsspec as a remote store is, refusing writes after ``allowed``."""

    def __init__(self, root: str, allowed: int) -> None:
        super().__init__(fsspec.filesystem("file", auto_mkdir=True), root, "file")
        self.allowed = allowed
        self._lock = threading.Lock()  # chunks are written from several threads

    def write_bytes(self, key: str, data: bytes | memoryview) -> None:
        with self._lock:
            full = self.allowed <= 0
            self.allowed -= 1
        if full:
            raise StorageError(f"writing {self.location(key)} failed: No space left on device")
        super().write_bytes(key, data)


def test_a_failed_chunk_write_stops_the_put_and_a_retry_finishes_it(tmp_path: Path) -> None:
    """Chunk by chunk (a store that is not local): what was written stays, a retry skips it."""
    data = random.Random(3).randbytes(200_000)
    root = tmp_path / "store"
    root.mkdir()
    failing = _store(root, FullDisk(str(root), allowed=20))
    with pytest.raises(StorageError, match="No space left"):
        failing.put_stream(io.BytesIO(data))
    raw = LocalRaw(root)
    stored = raw.list_keys()
    assert len(stored) == 20 and all(k.startswith("blobs/") for k in stored)  # no manifest

    store = _store(root, FullDisk(str(root), allowed=10**6))
    info = store.put_stream(io.BytesIO(data))
    assert store.get_bytes(info.id) == data
    new = set(raw.list_keys()) - set(stored)
    assert object_key("manifests", info.id) in new
    assert len(new) == len(_manifest_chunks(root, info.id)) - 20 + 1


def test_a_failed_pack_write_keeps_nothing_and_a_retry_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into a local store the chunks are one pack: a failed write drops it whole."""
    data = random.Random(4).randbytes(200_000)
    root = tmp_path / "store"
    writes = 0
    write_at = PackFile.write_at

    def fill_up(pack: PackFile, view: memoryview, offset: int) -> None:
        nonlocal writes
        writes += 1
        if writes > 3:
            raise StorageError(f"writing {pack.tmp} failed: No space left on device")
        write_at(pack, view, offset)

    monkeypatch.setattr(PackFile, "write_at", fill_up)
    with pytest.raises(StorageError, match="No space left"):
        _store(root).put_stream(io.BytesIO(data))
    assert LocalRaw(root).list_keys() == []  # no pack, no index, no manifest, no temporary file

    monkeypatch.setattr(PackFile, "write_at", write_at)
    store = _store(root)
    info = store.put_stream(io.BytesIO(data))
    assert store.get_bytes(info.id) == data
