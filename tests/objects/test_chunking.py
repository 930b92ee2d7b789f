"""Content-defined chunking: streaming equals one-shot, and edits cost only nearby chunks."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from objects_support import MAX_CHUNK, MiB, RawStorage, Trickle, object_key

from loopml.core.hashing import hash_bytes
from loopml.objects import ObjectStore
from loopml.objects._chunking import (
    ChunkParams,
    cut_buffer,
    reader_of,
    split_buffer,
    split_stream,
)
from loopml.objects._reader import new_hasher

SMALL = ChunkParams(min_size=256, avg_size=1024, max_size=4096, buffer_size=8192)


def _random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


contents = st.one_of(
    st.binary(max_size=40_000),
    st.builds(_random_bytes, st.integers(0, 2**32), st.integers(0, 60_000)),
    # Low entropy: long runs where no cut point may be found before max_size.
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=3), st.integers(0, 20_000)),
)


@settings(max_examples=150, deadline=None)
@given(data=contents, step=st.integers(1, 20_000), head_size=st.integers(0, 10_000))
def test_streaming_chunks_equal_one_shot_chunks(data: bytes, step: int, head_size: int) -> None:
    head, rest = data[:head_size], data[head_size:]
    streamed = [bytes(c) for c in split_stream(reader_of(Trickle(rest, step)), head, SMALL)]  # type: ignore[arg-type]
    whole = [bytes(c) for c in split_buffer(memoryview(data), SMALL)]
    assert streamed == whole
    assert b"".join(streamed) == data
    assert all(len(chunk) <= SMALL.max_size for chunk in streamed)
    assert all(len(chunk) >= SMALL.min_size for chunk in streamed[:-1])


@settings(max_examples=150, deadline=None)
@given(data=contents)
def test_windows_of_a_mapped_content_cut_as_one_shot(data: bytes) -> None:
    """cut_buffer's batches: the one-shot chunks, and their fresh parts the content, once."""
    if not data:
        return  # a mapped content is never empty (only large files are mapped)
    batches = list(cut_buffer(bytearray(data), SMALL))
    chunks = [bytes(chunk) for batch in batches for chunk in batch.chunks()]
    assert chunks == [bytes(c) for c in split_buffer(memoryview(data), SMALL)]
    assert b"".join(bytes(batch.fresh) for batch in batches) == data
    assert all(bytes(b.data) == data[b.start : b.start + len(b.data)] for b in batches)


def test_streaming_updates_the_hasher_with_everything() -> None:
    data = _random_bytes(7, 100_000)
    hasher = new_hasher()
    list(split_stream(reader_of(io.BytesIO(data[500:])), data[:500], SMALL, hasher=hasher))
    assert hasher.hexdigest() == hash_bytes(data)


def _chunk_ids(raw: RawStorage, object_id: str) -> set[str]:
    """The chunks a stored manifest lists (loose or packed alike)."""
    manifest = json.loads(raw.read(object_key("manifests", object_id)))
    return {chunk_id for chunk_id, _ in manifest["chunks"]}


def _stored_bytes(raw: RawStorage) -> int:
    return sum(len(raw.read(key)) for key in raw.list_keys())


def test_editing_the_middle_of_a_large_file_stores_only_a_few_chunks(
    store: ObjectStore, raw: RawStorage, tmp_path: Path, big_content: bytes
) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(big_content)
    info = store.put_file(src)
    assert info.chunked and info.id == hash_bytes(big_content) and info.size == len(big_content)
    chunks = _chunk_ids(raw, info.id)
    assert len(big_content) // MAX_CHUNK <= len(chunks) <= len(big_content) // (256 * 1024) + 1
    few_chunks = 4 * MAX_CHUNK + 64 * 1024  # and a manifest, a pack index, block padding

    edited = bytearray(big_content)
    middle = len(edited) // 2
    edited[middle : middle + 100] = bytes(b ^ 0x5A for b in edited[middle : middle + 100])
    src.write_bytes(edited)
    before = _stored_bytes(raw)
    edited_info = store.put_file(src)
    new_chunks = _chunk_ids(raw, edited_info.id) - chunks
    assert 1 <= len(new_chunks) <= 4, f"{len(new_chunks)} of {len(chunks)} chunks changed"
    assert 0 < _stored_bytes(raw) - before <= few_chunks  # the new chunks, not the file
    assert store.get_bytes(edited_info.id) == bytes(edited)

    # An insertion shifts every later byte, yet the cut points resynchronise.
    before = _stored_bytes(raw)
    inserted = big_content[:middle] + b"inserted!" * 11 + big_content[middle:]
    inserted_info = store.put_stream(io.BytesIO(inserted))
    assert 1 <= len(_chunk_ids(raw, inserted_info.id) - chunks) <= 4
    assert 0 < _stored_bytes(raw) - before <= few_chunks
    assert store.get_bytes(inserted_info.id) == inserted


def test_large_content_is_stored_once_however_it_is_put(
    store: ObjectStore, raw: RawStorage, big_content: bytes
) -> None:
    data = big_content[: 12 * MiB]
    object_id = store.put_bytes(data)
    keys = raw.list_keys()
    assert store.put_stream(Trickle(data, 1 << 20)).id == object_id  # type: ignore[arg-type]
    assert store.put_bytes(data) == object_id
    assert raw.list_keys() == keys
    assert store.stat(object_id).chunked
    with store.open(object_id) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]
