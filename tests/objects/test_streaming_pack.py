"""StreamingPack: many threads fill one pack through recycled, page-aligned segments.

Written with direct I/O where the filesystem takes it (ext4, tmpfs since
Linux 6.6) and with ordinary writes where it does not, the pack reads back byte for byte
through the index, whatever the sizes, the segment boundaries crossed and
the order the threads finish in; memory stays within ``SEGMENTS`` buffers;
and an aborted pack leaves no file behind.
"""

from __future__ import annotations

import fcntl
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from objects_support import assert_packed

from loopml.core.hashing import hash_bytes
from loopml.objects import _streaming_pack as streaming_pack
from loopml.objects._fs import LocalBackend
from loopml.objects._pack_file import BLOCK
from loopml.objects._packs import PackIndex, pack_key
from loopml.objects._streaming_pack import SEGMENT, SEGMENTS, StreamingPack


def _never(object_id: str, size: int) -> bool:
    return False


def _contents(count: int, seed: int) -> list[bytes]:
    """Sizes from 1 byte to past a segment, so pieces straddle segment boundaries."""
    rng = random.Random(seed)
    sizes = [1, BLOCK - 1, BLOCK + 1, 3 * SEGMENT // 2]
    sizes += [rng.randrange(1, 3 * 1024 * 1024) for _ in range(count - len(sizes))]
    return [rng.randbytes(size) for size in sizes]


def _fill(root: Path, contents: list[bytes]) -> tuple[StreamingPack, PackIndex]:
    backend = LocalBackend(str(root))
    index = PackIndex(backend)
    pack = StreamingPack(backend, index, _never)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda data: pack.put(hash_bytes(data), memoryview(data)), contents))
    return pack, index


def _assert_reads_back(root: Path, contents: list[bytes]) -> None:
    assert_packed(root, contents)
    packs = list((root / "packs").glob("*.pack"))
    assert len(packs) == 1 and packs[0].stat().st_size == sum(map(len, contents))


def test_a_pack_filled_by_many_threads_reads_back_exactly(tmp_path: Path) -> None:
    contents = _contents(40, seed=1)
    pack, _ = _fill(tmp_path, contents)
    assert pack._allocated <= SEGMENTS  # memory stays bounded
    pack.finish()
    _assert_reads_back(tmp_path, contents)
    assert not [p for p in (tmp_path / "packs").iterdir() if p.name.startswith(".")]


def test_a_pack_on_tmpfs_reads_back_too(tmpfs_dir: Path) -> None:
    """tmpfs refused direct I/O before Linux 6.6 and takes it (as a no-op) since."""
    contents = _contents(12, seed=2)
    pack, _ = _fill(tmpfs_dir, contents)
    pack.finish()
    _assert_reads_back(tmpfs_dir, contents)


def test_a_write_refused_for_direct_io_is_done_through_the_cache(tmp_path: Path) -> None:
    """An unaligned write on a direct-I/O file fails with EINVAL: the flag is dropped."""
    pack = StreamingPack(
        LocalBackend(str(tmp_path)), PackIndex(LocalBackend(str(tmp_path))), _never
    )
    try:
        direct = getattr(os, "O_DIRECT", 0)
        if not direct or not fcntl.fcntl(pack.file._fd, fcntl.F_GETFL) & direct:
            pytest.skip("this filesystem has no direct I/O")
        pack.file.write_at(memoryview(b"x" * 100)[1:], 3)  # unaligned address, length and offset
        assert not fcntl.fcntl(pack.file._fd, fcntl.F_GETFL) & direct
    finally:
        pack.abort()


def test_the_same_content_twice_is_stored_once_and_stored_ones_not_at_all(tmp_path: Path) -> None:
    backend = LocalBackend(str(tmp_path))
    old = b"stored already" * 1000
    pack = StreamingPack(backend, PackIndex(backend), lambda i, n: i == hash_bytes(old))
    new = os.urandom(SEGMENT + 5)
    for data in (new, old, new):
        pack.put(hash_bytes(data), memoryview(data))
    pack.finish()
    stored = list((tmp_path / "packs").glob("*.pack"))
    assert [p.stat().st_size for p in stored] == [len(new)]


def test_nothing_new_leaves_no_pack_and_an_abort_leaves_no_file(tmp_path: Path) -> None:
    backend = LocalBackend(str(tmp_path))
    empty = StreamingPack(backend, PackIndex(backend), _never)
    empty.finish()
    aborted = StreamingPack(backend, PackIndex(backend), _never)
    aborted.put("ab" * 32, memoryview(os.urandom(SEGMENT * 2 + 1)))
    aborted.abort()
    assert [p for p in (tmp_path / "packs").iterdir()] == []
    assert not os.path.exists(backend.location(pack_key(aborted.file._name)))


def test_threads_waiting_for_a_segment_buffer_take_fresh_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two buffers for eight threads, most puts wait; none may reuse a stale offset."""
    monkeypatch.setattr(streaming_pack, "SEGMENTS", 2)
    rng = random.Random(3)
    contents = [rng.randbytes(rng.randrange(SEGMENT // 3, SEGMENT)) for _ in range(48)]
    backend = LocalBackend(str(tmp_path))
    pack = StreamingPack(backend, PackIndex(backend), _never)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda data: pack.put(hash_bytes(data), memoryview(data)), contents))
    assert pack._allocated <= 2
    pack.finish()
    _assert_reads_back(tmp_path, contents)
