"""Round trips of bytes, files and streams; dedup; stat, exists and bad ids."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from objects_support import MiB, RawStorage, ReadOnly, Trickle, assert_info, object_key

from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.core.hashing import hash_bytes
from loopml.objects import BlobInfo, ObjectStore
from loopml.objects import _store as store_module

MISSING = "0" * 64


@pytest.mark.parametrize("size", [0, 1, 4096, MiB, MiB + 1, 5 * MiB])
def test_bytes_round_trip(store: ObjectStore, size: int) -> None:
    data = os.urandom(size)
    object_id = store.put_bytes(data)
    assert object_id == hash_bytes(data)
    assert store.get_bytes(object_id) == data
    assert store.exists(object_id)
    assert_info(store.stat(object_id), object_id, size)
    with store.open(object_id) as stream:
        assert stream.read() == data


def test_put_bytes_accepts_bytes_like_and_rejects_others(store: ObjectStore) -> None:
    assert store.put_bytes(bytearray(b"abc")) == store.put_bytes(memoryview(b"abc"))
    with pytest.raises(InvalidArgument):
        store.put_bytes("text")  # type: ignore[arg-type]


def test_put_is_idempotent_and_deduplicates(store: ObjectStore, raw: RawStorage) -> None:
    small, large = b"same content" * 10, os.urandom(5 * MiB)
    assert store.put_bytes(small) == store.put_bytes(small)
    assert store.put_bytes(large) == store.put_bytes(large)
    keys = raw.list_keys()
    store.put_stream(io.BytesIO(small))
    store.put_stream(io.BytesIO(large))
    assert raw.list_keys() == keys
    assert sum(key.startswith("manifests/") for key in keys) == 1


@pytest.mark.parametrize("size", [0, 10, 2 * MiB + 17, 5 * MiB])
def test_file_round_trip(store: ObjectStore, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    info = store.put_file(src)
    assert_info(info, hash_bytes(data), size)
    dest = tmp_path / "dest.bin"
    store.get_file(info.id, dest)
    assert dest.read_bytes() == data
    store.get_file(info.id, str(dest))  # overwrites, str paths too
    assert dest.read_bytes() == data


@pytest.mark.parametrize("make_stream", [io.BytesIO, Trickle, ReadOnly])
@pytest.mark.parametrize("size", [0, 5000, MiB, MiB + 1, 6 * MiB + 3])
def test_stream_round_trip(
    store: ObjectStore, make_stream: Callable[[bytes], object], size: int
) -> None:
    data = os.urandom(size)
    info = store.put_stream(make_stream(data))  # type: ignore[arg-type]
    assert_info(info, hash_bytes(data), size)
    assert store.get_bytes(info.id) == data


def test_file_and_stream_and_bytes_agree(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(5 * MiB)
    src = tmp_path / "f"
    src.write_bytes(data)
    assert store.put_file(src) == store.put_stream(io.BytesIO(data))
    assert store.put_bytes(data) == store.put_file(src).id


def test_open_streams_in_pieces(store: ObjectStore) -> None:
    data = os.urandom(3 * MiB + 5)
    object_id = store.put_bytes(data)
    pieces = []
    with store.open(object_id) as stream:
        while piece := stream.read(65_537):
            pieces.append(piece)
        assert stream.read() == b""
    assert b"".join(pieces) == data
    lines = b"first\nsecond\nthird"
    with store.open(store.put_bytes(lines)) as stream:
        assert list(stream) == [b"first\n", b"second\n", b"third"]


def test_missing_objects_are_not_found(store: ObjectStore, tmp_path: Path) -> None:
    assert not store.exists(MISSING)
    for call in (
        lambda: store.get_bytes(MISSING),
        lambda: store.open(MISSING),
        lambda: store.stat(MISSING),
        lambda: store.get_tree(MISSING),
        lambda: store.get_file(MISSING, tmp_path / "never"),
    ):
        with pytest.raises(NotFound, match=MISSING):
            call()
    assert not (tmp_path / "never").exists()
    with pytest.raises(NotFound):
        store.put_file(tmp_path / "no-such-file")


BAD_IDS = ["../../etc/passwd", "A" * 64, "abc", "0" * 63 + "/", "0" * 65, "", "g" * 64]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_are_validated_before_use(store: ObjectStore, tmp_path: Path, bad: str) -> None:
    for call in (
        lambda: store.get_bytes(bad),
        lambda: store.open(bad),
        lambda: store.get_file(bad, tmp_path / "x"),
        lambda: store.exists(bad),
        lambda: store.stat(bad),
        lambda: store.get_tree(bad),
        lambda: store.gc([bad], grace_seconds=0),
    ):
        with pytest.raises(InvalidArgument, match="object id"):
            call()


def test_get_file_into_missing_directory_is_a_storage_error(
    store: ObjectStore, tmp_path: Path
) -> None:
    object_id = store.put_bytes(b"x")
    with pytest.raises(StorageError):
        store.get_file(object_id, tmp_path / "no" / "such" / "dir")


def test_large_unchunked_file_streams_through_a_temp_name(
    make_store: Callable[..., ObjectStore],
    raw: RawStorage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store_module, "MEMORY_LIMIT", 1000)
    store = make_store(chunking_threshold=64 * MiB)
    data = os.urandom(3 * MiB + 1)
    src = tmp_path / "big"
    src.write_bytes(data)
    info = store.put_file(src)
    assert info == BlobInfo(hash_bytes(data), len(data), chunked=False)
    assert store.get_bytes(info.id) == data
    assert store.put_file(src) == info
    assert raw.list_keys() == [object_key("blobs", info.id)]


def test_a_truncated_blob_is_repaired_by_putting_it_again(
    store: ObjectStore, raw: RawStorage
) -> None:
    data = b"precious" * 1000
    object_id = store.put_bytes(data)
    raw.write(object_key("blobs", object_id), data[:100])
    store.put_bytes(data)
    assert store.get_bytes(object_id) == data


def test_concurrent_writers_of_the_same_content(store: ObjectStore) -> None:
    data = os.urandom(4 * MiB)
    results: list[str] = []
    errors: list[BaseException] = []

    def put() -> None:
        try:
            results.append(store.put_bytes(data))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(results) == {hash_bytes(data)}
    assert store.get_bytes(results[0]) == data


def test_iter_ids_lists_every_object_once(store: ObjectStore) -> None:
    small = store.put_bytes(b"small")
    large = store.put_bytes(os.urandom(5 * MiB))
    ids = list(store.iter_ids())
    assert len(ids) == len(set(ids))
    assert {small, large} <= set(ids)
    assert len(ids) >= 4  # the large one is a manifest plus at least two chunks
