"""BufferPack: the new chunks of cut batches written straight from their buffers into one pack.

Each run of consecutive new chunks is one write widened to whole blocks, so
the pack holds every new chunk once, read back byte for byte through its
index, plus at most a block of padding on either side of a run; chunks
stored already (in the store or earlier in the pack) are not written. It
works with direct I/O (ext4), without it (tmpfs) and from an unaligned buffer.
"""

from __future__ import annotations

import mmap
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from objects_support import assert_packed

from loopml.core.hashing import hash_bytes
from loopml.objects._buffer_pack import BufferPack
from loopml.objects._chunking import Batch, Buffer
from loopml.objects._fs import LocalBackend
from loopml.objects._pack_file import BLOCK
from loopml.objects._packs import PackIndex


def _batch(buffer: Buffer, start: int, lengths: list[int]) -> Batch:
    data = memoryview(buffer)[start : start + sum(lengths)]
    return Batch(buffer, start, data, lengths, data)


def _random_batch(rng: random.Random, start: int, lengths: list[int]) -> Batch:
    buffer = mmap.mmap(-1, -(-(start + sum(lengths)) // BLOCK) * BLOCK)
    buffer[:] = rng.randbytes(len(buffer))
    return _batch(buffer, start, lengths)


def _chunks(batch: Batch) -> list[bytes]:
    return [bytes(chunk) for chunk in batch.chunks()]


def _pack_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "packs").glob("*.pack"))


def _never(object_id: str, size: int) -> bool:
    return False


def test_new_chunks_are_one_widened_write_per_run_and_read_back(tmp_path: Path) -> None:
    rng = random.Random(1)
    batches = [_random_batch(rng, rng.randrange(0, 3 * BLOCK), [70_000, 1, 5000, 300_001])]
    batches += [_random_batch(rng, 1234, [rng.randrange(1, 200_000) for _ in range(9)])]
    backend = LocalBackend(str(tmp_path))
    pack = BufferPack(backend, PackIndex(backend), _never)
    ids = [pack.put_batch(batch) for batch in batches]
    pack.finish()
    for batch, batch_ids in zip(batches, ids, strict=True):
        assert batch_ids == [hash_bytes(chunk) for chunk in _chunks(batch)]
        assert_packed(tmp_path, _chunks(batch))
    content = sum(sum(batch.lengths) for batch in batches)
    assert content <= _pack_bytes(tmp_path) <= content + 2 * BLOCK * len(batches)


def test_stored_and_repeated_chunks_are_not_written_again(tmp_path: Path) -> None:
    rng = random.Random(2)
    lengths = [100_000] * 6
    batch = _random_batch(rng, 0, lengths)
    chunks = _chunks(batch)
    stored = {hash_bytes(chunks[1]), hash_bytes(chunks[4])}  # splits the new ones in three runs
    repeat = _batch(batch.buffer, 2 * 100_000, [100_000])  # chunk 2 again, later
    backend = LocalBackend(str(tmp_path))
    pack = BufferPack(backend, PackIndex(backend), lambda i, n: i in stored)
    pack.put_batch(batch)
    assert pack.put_batch(repeat) == [hash_bytes(chunks[2])]
    pack.finish()
    new = [chunks[0], chunks[2], chunks[3], chunks[5]]
    assert_packed(tmp_path, new)
    index = PackIndex(LocalBackend(str(tmp_path)))
    assert all(index.find(object_id) is None for object_id in stored)
    assert sum(map(len, new)) <= _pack_bytes(tmp_path) <= sum(map(len, new)) + 6 * BLOCK


def test_batches_from_many_threads_share_one_pack(tmp_path: Path) -> None:
    rng = random.Random(3)
    batches = [
        _random_batch(rng, rng.randrange(0, BLOCK * 4), [rng.randrange(1, 300_000)] * 3)
        for _ in range(24)
    ]
    backend = LocalBackend(str(tmp_path))
    pack = BufferPack(backend, PackIndex(backend), _never)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(pack.put_batch, batches))
    pack.finish()
    assert_packed(tmp_path, [chunk for batch in batches for chunk in _chunks(batch)])
    assert len(list((tmp_path / "packs").glob("*.pack"))) == 1


@pytest.mark.parametrize("where", ["tmpfs", "unaligned"])
def test_without_direct_io_the_chunks_are_written_through_the_cache(
    request: pytest.FixtureRequest, tmp_path: Path, where: str
) -> None:
    """tmpfs may refuse direct I/O; a bytearray's chunks are not page-aligned: both still work."""
    rng = random.Random(4)
    if where == "tmpfs":
        root = request.getfixturevalue("tmpfs_dir")
        batch = _random_batch(rng, 17, [50_000, 60_000])
    else:
        root = tmp_path
        batch = _batch(bytearray(rng.randbytes(200_001)), 3, [50_000, 60_000, 7])
    backend = LocalBackend(str(root))
    pack = BufferPack(backend, PackIndex(backend), _never)
    pack.put_batch(batch)
    pack.finish()
    assert_packed(root, _chunks(batch))


def test_nothing_new_leaves_no_pack_and_an_abort_leaves_no_file(tmp_path: Path) -> None:
    rng = random.Random(5)
    backend = LocalBackend(str(tmp_path))
    nothing_new = BufferPack(backend, PackIndex(backend), lambda i, n: True)
    nothing_new.put_batch(_random_batch(rng, 0, [10_000, 20_000]))
    nothing_new.finish()
    aborted = BufferPack(backend, PackIndex(backend), _never)
    aborted.put_batch(_random_batch(rng, 0, [10_000, 20_000]))
    aborted.abort()
    assert list((tmp_path / "packs").iterdir()) == []
