"""A large file stored while packing: its chunks go into one pack of their own, not a file each.

On a local store only (where file creation is what costs); the content reads,
verifies and dedupes exactly like loose chunks, and a failed store leaves nothing.
"""

from __future__ import annotations

import io
import mmap
import os
import time
from pathlib import Path
from typing import Any

import pytest
from objects_support import TEST_THRESHOLD, LocalRaw, MiB

from loopml.core.errors import CorruptObject, StorageError
from loopml.core.hashing import hash_bytes
from loopml.objects import ObjectStore, open_object_store
from loopml.objects import _mapped as mapped_module


@pytest.fixture
def local(tmp_path: Path) -> tuple[ObjectStore, LocalRaw]:
    root = tmp_path / "objects"
    return open_object_store(str(root), chunking_threshold=TEST_THRESHOLD), LocalRaw(root)


def _keys(raw: LocalRaw, prefix: str) -> list[str]:
    return [k for k in raw.list_keys() if k.startswith(prefix)]


def _big_file(tmp_path: Path, mib: int) -> Path:
    """``big.bin``: ``mib`` MiB of random bytes, above the threshold: stored chunked."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(mib * MiB))
    return big


def _assert_nothing_kept(raw: LocalRaw) -> None:
    """No pack, no manifest, no temporary file: a failed store left nothing."""
    assert _keys(raw, "packs/") == [] and _keys(raw, "manifests/") == []
    assert [k for k in raw.list_keys() if ".tmp-" in k] == []


def test_chunks_of_a_large_file_are_one_pack_and_read_back(
    local: tuple[ObjectStore, LocalRaw], tmp_path: Path
) -> None:
    store, raw = local
    data = os.urandom(9 * MiB)  # above the 4 MiB largest chunk: always several chunks
    big = tmp_path / "big.bin"
    big.write_bytes(data)
    with store.packing() as packer:
        info = packer.put_file(big)
    assert info.id == hash_bytes(data) and info.chunked and info.size == len(data)
    assert _keys(raw, "blobs/") == []  # no chunk file of its own
    assert [k.rpartition(".")[2] for k in _keys(raw, "packs/")] in (
        ["idx", "pack"],
        ["pack", "idx"],
    )
    assert len(_keys(raw, "manifests/")) == 1
    assert store.get_bytes(info.id) == data
    with store.open(info.id) as stream:
        assert stream.read() == data
    with store.packing() as packer:  # stored already: no new pack
        assert packer.put_file(big).id == info.id
    assert len(_keys(raw, "packs/")) == 2


def test_an_edit_packs_only_the_new_chunks(
    local: tuple[ObjectStore, LocalRaw], tmp_path: Path
) -> None:
    store, raw = local
    data = bytearray(os.urandom(12 * MiB))
    big = tmp_path / "big.bin"
    big.write_bytes(data)
    with store.packing() as packer:
        packer.put_file(big)
    first_pack_bytes = sum(len(raw.read(k)) for k in _keys(raw, "packs/") if k.endswith(".pack"))
    data[6 * MiB : 6 * MiB + 1024] = os.urandom(1024)
    big.write_bytes(data)
    with store.packing() as packer:
        edited = packer.put_file(big)
    packs = [k for k in _keys(raw, "packs/") if k.endswith(".pack")]
    assert len(packs) == 2
    new_bytes = sum(len(raw.read(k)) for k in packs) - first_pack_bytes
    assert 0 < new_bytes <= 8 * MiB  # the chunks around the edit, not the file
    assert store.get_bytes(edited.id) == bytes(data)


def test_a_failed_store_leaves_no_pack_and_no_manifest(local: tuple[ObjectStore, LocalRaw]) -> None:
    store, raw = local

    class Broken(io.RawIOBase):
        """Reads 5 MiB, then the disk fails."""

        def __init__(self) -> None:
            self.left = 5 * MiB

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if self.left <= 0:
                raise OSError(5, "Input/output error")
            n = min(len(buffer), self.left)
            buffer[:n] = b"x" * n
            self.left -= n
            return n

    with pytest.raises(OSError), store.packing():
        store._put_chunked_stream(Broken().readinto)
    _assert_nothing_kept(raw)


def test_a_damaged_packed_chunk_is_detected(
    local: tuple[ObjectStore, LocalRaw], tmp_path: Path
) -> None:
    store, raw = local
    with store.packing() as packer:
        info = packer.put_file(_big_file(tmp_path, 9))
    [pack] = [k for k in _keys(raw, "packs/") if k.endswith(".pack")]
    damaged = bytearray(raw.read(pack))
    damaged[len(damaged) // 2] ^= 0xFF
    raw.write(pack, bytes(damaged))
    with pytest.raises(CorruptObject):
        store.get_bytes(info.id)


def test_a_file_changed_while_it_is_stored_is_refused_and_nothing_is_kept(
    local: tuple[ObjectStore, LocalRaw], tmp_path: Path
) -> None:
    """A mapped file is not a private copy: a change during the store fails it, cleanly."""
    store, raw = local
    big = _big_file(tmp_path, 20)
    changed = []

    def change_once(n: int) -> None:  # told as the file is cut: rewrite part of it meanwhile
        if not changed:
            with open(big, "r+b") as out:
                out.seek(15 * MiB)
                out.write(os.urandom(MiB))
            os.utime(big, ns=(time.time_ns(), time.time_ns() + 10**9))
            changed.append(n)

    with (
        pytest.raises(StorageError, match="changed while it was being stored"),
        store.packing() as packer,
    ):
        packer.put_file(big, on_read=change_once)
    _assert_nothing_kept(raw)
    with store.packing() as packer:  # a retry, the file at rest, stores it
        info = packer.put_file(big)
    assert store.get_bytes(info.id) == big.read_bytes()


def test_a_file_that_cannot_be_mapped_is_read_instead(
    local: tuple[ObjectStore, LocalRaw], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store, _ = local
    big = _big_file(tmp_path, 10)
    data = big.read_bytes()

    anonymous = mmap.mmap

    def refuse_files(fileno: int, *args: Any, **kwargs: Any) -> mmap.mmap:
        if fileno != -1:  # a file: ENODEV, as from a filesystem without mmap
            raise OSError(19, "No such device")
        return anonymous(fileno, *args, **kwargs)  # the read buffers still work

    monkeypatch.setattr(mapped_module.mmap, "mmap", refuse_files)
    read: list[int] = []
    with store.packing() as packer:
        info = packer.put_file(big, on_read=read.append)
    assert info.chunked and store.get_bytes(info.id) == data
    assert sum(read) == len(data)  # read through readinto, and told as it was read
