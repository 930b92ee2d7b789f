"""Copying what roots reach between stores: only what is missing, verified, resumable."""

from __future__ import annotations

import io
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from objects_support import TEST_THRESHOLD, LocalRaw, MiB, RawStorage, flip_byte, object_key

from loopml.core.errors import InvalidArgument, StorageError
from loopml.objects import (
    ObjectStore,
    TransferReport,
    TreeEntry,
    local_packed_ids,
    open_object_store,
    reachable,
    transfer,
)
from loopml.objects._fs import LocalBackend, S3Backend
from s3_server import BUCKET, S3Server


@dataclass
class Dataset:
    """A folder-like tree: small files, one chunked file and a nested tree."""

    root: str
    files: dict[str, bytes]
    large: str
    inner: str
    small_ids: list[str]


def _dataset(store: ObjectStore, count: int = 5) -> Dataset:
    files = {f"small/{i}.txt": f"file {i}\n".encode() * (i + 1) for i in range(count)}
    files["sub/large.bin"] = os.urandom(6 * MiB)
    ids = {path: store.put_bytes(data) for path, data in files.items()}
    inner = store.put_tree(
        {"large.bin": TreeEntry(ids["sub/large.bin"], len(files["sub/large.bin"]))}
    )
    entries = {p: TreeEntry(ids[p], len(files[p])) for p in files if p.startswith("small/")}
    entries["sub"] = TreeEntry(inner, 0)
    root = store.put_tree(entries)
    small_ids = [ids[p] for p in files if p.startswith("small/")]
    return Dataset(root, files, ids["sub/large.bin"], inner, small_ids)


def _assert_whole(store: ObjectStore, data: Dataset) -> None:
    tree = store.get_tree(data.root)
    inner = store.get_tree(tree["sub"].id)
    assert store.get_bytes(inner["large.bin"].id) == data.files["sub/large.bin"]
    for path, entry in tree.items():
        if path.startswith("small/"):
            assert store.get_bytes(entry.id) == data.files[path]


def _chunks(raw: RawStorage, object_id: str) -> list[str]:
    return [c for c, _ in json.loads(raw.read(object_key("manifests", object_id)))["chunks"]]


@pytest.fixture
def source(tmp_path: Path) -> ObjectStore:
    return open_object_store(str(tmp_path / "cache"), chunking_threshold=TEST_THRESHOLD)


@pytest.fixture
def source_raw(tmp_path: Path) -> LocalRaw:
    return LocalRaw(tmp_path / "cache")


def test_reachable_follows_trees_and_manifests(source: ObjectStore, source_raw: LocalRaw) -> None:
    data = _dataset(source)
    objects = reachable(source, [data.root])
    chunks = _chunks(source_raw, data.large)
    assert set(objects.trees) == {data.root, data.inner}
    assert set(objects.manifests) == {data.large}
    assert set(objects.blobs) == set(data.small_ids) | set(chunks)
    assert set(objects.children[data.large]) == set(chunks)
    assert objects.missing == frozenset() and objects.corrupt == frozenset()
    assert len(objects) == len(source_raw.list_keys())
    assert objects.size == sum(len(source_raw.read(k)) for k in source_raw.list_keys())


def test_reachable_reports_what_is_not_stored(source: ObjectStore) -> None:
    absent = "ab" * 32
    blob = source.put_bytes(b"here")
    tree = source.put_tree({"gone": TreeEntry(absent, 3), "here": TreeEntry(blob, 4)})
    objects = reachable(source, [tree, "cd" * 32])
    assert objects.missing == {absent, "cd" * 32}
    assert set(objects.blobs) == {blob}


@pytest.mark.parametrize("bad", ["0" * 64, ["../etc"], ["A" * 64]])
def test_roots_are_checked(source: ObjectStore, tmp_path: Path, bad: object) -> None:
    dst = open_object_store(str(tmp_path / "dst"))
    with pytest.raises(InvalidArgument):
        transfer(source, dst, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="jobs"):
        transfer(source, dst, [], jobs=0)


def test_transfer_copies_everything_once(source: ObjectStore, target: Any) -> None:
    data = _dataset(source, count=40)  # past the remote catalog's list threshold
    dst = target.open()
    totals: list[tuple[int, int]] = []
    copied_bytes: list[int] = []
    settled: list[tuple[str, bool]] = []
    report = transfer(
        source,
        dst,
        [data.root],
        jobs=4,
        on_total=lambda n, b: totals.append((n, b)),
        on_bytes=copied_bytes.append,
        on_object=lambda i, c: settled.append((i, c)),
    )
    objects = reachable(source, [data.root])
    assert report.complete and report.skipped == 0
    stored = [k for k in target.raw.list_keys() if not k.startswith("packs/")]
    if target.kind == "local":  # blobs arrive in packs: a file per pack, not per object
        packed = local_packed_ids(target.uri)
        assert packed == set(objects.blobs)
        stored += sorted(packed)
    assert report.copied == len(objects) == len(stored)
    assert totals == [(len(objects), objects.size)]
    assert report.bytes == sum(copied_bytes) == objects.size
    assert {i for i, copied in settled if copied} == objects.ids
    _assert_whole(dst, data)

    again = transfer(source, dst, [data.root])
    assert again == TransferReport(copied=0, skipped=len(objects), bytes=0)


def test_a_linking_cache_gets_whole_files_loose_and_only_chunks_packed(
    source: ObjectStore, tmp_path: Path
) -> None:
    """A workspace links files out of its cache: they must stay blobs of their own."""
    data = _dataset(source, count=40)
    root = tmp_path / "linked"
    dst = open_object_store(str(root), chunking_threshold=TEST_THRESHOLD)
    assert transfer(source, dst, [data.root], pack_files=False).complete
    chunks = set(_chunks(LocalRaw(root), data.large))
    # Too few chunks to be worth a pack (MIN_PACKED) are stored on their own too.
    assert local_packed_ids(str(root)) <= chunks
    for small in data.small_ids:
        assert (root / object_key("blobs", small)).is_file()
    _assert_whole(dst, data)


def test_fetching_from_a_remote_copies_only_what_the_cache_lacks(
    source: ObjectStore, target: Any, tmp_path: Path
) -> None:
    data = _dataset(source)
    remote = target.open()
    transfer(source, remote, [data.root])
    cache = open_object_store(str(tmp_path / "other-cache"), chunking_threshold=TEST_THRESHOLD)
    cache.put_bytes(data.files["small/0.txt"])
    report = transfer(remote, cache, [data.root])
    assert report.complete and report.skipped == 1
    _assert_whole(cache, data)


class FailingBackend(LocalBackend):
    """A real local directory whose writes fail after ``allowed`` of them (a full disk)."""

    def __init__(self, root: str, allowed: int) -> None:
        super().__init__(root)
        self.allowed = allowed

    def write_bytes(self, key: str, data: bytes | memoryview) -> None:
        if self.allowed <= 0:
            raise StorageError(f"writing {self.location(key)} failed: No space left on device")
        self.allowed -= 1
        super().write_bytes(key, data)


def test_an_interrupted_transfer_resumes(source: ObjectStore, tmp_path: Path) -> None:
    data = _dataset(source, count=10)
    total = len(reachable(source, [data.root]))
    root = tmp_path / "remote"
    failing = ObjectStore(FailingBackend(str(root), 7), uri=str(root), chunking_threshold=MiB)
    with pytest.raises(StorageError, match=r"(?s)No space left.*Check that .*remote"):
        transfer(source, failing, [data.root], jobs=1)
    stored = LocalRaw(root).list_keys()
    assert len(stored) == 7
    assert not any(key.startswith("trees/") for key in stored)  # parents go last
    assert not any(".tmp-" in key for key in stored)

    report = transfer(source, open_object_store(str(root)), [data.root])
    assert (report.copied, report.skipped) == (total - 7, 7)
    _assert_whole(open_object_store(str(root)), data)


def test_objects_removed_from_the_destination_are_copied_again(
    source: ObjectStore, target: Any
) -> None:
    data = _dataset(source)
    dst = target.open()
    transfer(source, dst, [data.root])
    chunk = _chunks(target.raw, data.large)[1]
    target.raw.delete(object_key("blobs", chunk))
    target.raw.write(object_key("blobs", data.small_ids[0]), b"truncated")
    report = transfer(source, dst, [data.root])
    assert report.copied == 2
    _assert_whole(dst, data)


def test_a_corrupt_source_object_is_reported_not_copied(
    source: ObjectStore, source_raw: LocalRaw, target: Any
) -> None:
    data = _dataset(source)
    bad_chunk = _chunks(source_raw, data.large)[0]
    key = object_key("blobs", bad_chunk)
    source_raw.write(key, flip_byte(source_raw.read(key)))
    dst = target.open()
    report = transfer(source, dst, [data.root])
    assert report.corrupt == [bad_chunk] and report.missing == []
    assert not report.complete
    keys = set(target.raw.list_keys())
    # Neither the damaged chunk nor anything that needs it: no manifest, no tree.
    assert key not in keys
    assert not any(k.startswith(("manifests/", "trees/")) for k in keys)
    for small in data.small_ids:
        assert dst.get_bytes(small) == source.get_bytes(small)

    # Repaired at the source (the damaged file deleted, the content put again): the retry ends it.
    os.unlink(source_raw.root / key)
    source.put_stream(io.BytesIO(data.files["sub/large.bin"]))
    report = transfer(source, dst, [data.root])
    assert report.complete
    _assert_whole(dst, data)


def test_missing_and_damaged_parents_are_reported(
    source: ObjectStore, source_raw: LocalRaw, tmp_path: Path
) -> None:
    data = _dataset(source)
    source_raw.write(object_key("trees", data.inner), b"{}")
    gone = data.small_ids[1]
    os.unlink(source_raw.root / object_key("blobs", gone))
    dst = open_object_store(str(tmp_path / "dst"))
    report = transfer(source, dst, [data.root])
    assert report.corrupt == [data.inner] and report.missing == [gone]
    assert not dst.exists(data.root) and not dst.exists(data.inner)
    assert dst.exists(data.small_ids[0])

    # What the source lacks is no loss when the destination has it already.
    dst.put_bytes(data.files["small/1.txt"])
    dst.put_bytes(data.files["sub/large.bin"])
    dst.put_tree({"large.bin": TreeEntry(data.large, len(data.files["sub/large.bin"]))})
    report = transfer(source, dst, [data.root])
    assert report.complete and report.copied == 1  # the root tree, now that its parts are there
    _assert_whole(dst, data)


def test_a_large_plain_blob_is_streamed_and_verified(tmp_path: Path) -> None:
    src = open_object_store(str(tmp_path / "src"), chunking_threshold=64 * MiB)
    content = os.urandom(20 * MiB)
    object_id = src.put_bytes(content)
    dst = open_object_store(str(tmp_path / "dst"))
    assert transfer(src, dst, [object_id]).bytes == len(content)
    assert dst.get_bytes(object_id) == content

    raw = LocalRaw(tmp_path / "src")
    key = object_key("blobs", object_id)
    raw.write(key, flip_byte(raw.read(key)))
    other = open_object_store(str(tmp_path / "other"))
    report = transfer(src, other, [object_id])
    assert report.corrupt == [object_id]
    assert LocalRaw(tmp_path / "other").list_keys() == []  # no partial, no temp file


@pytest.mark.s3
def test_an_unreachable_remote_is_a_clear_storage_error(source: ObjectStore) -> None:
    data = _dataset(source)
    remote = open_object_store(
        "s3://bucket/prefix",
        storage_options={
            "endpoint_url": "http://127.0.0.1:9",  # discard port: nothing listens
            "key": "k",
            "secret": "s",
            "config_kwargs": {"retries": {"max_attempts": 1}},
        },
    )
    with pytest.raises(StorageError, match=r"s3://bucket/prefix.*Could not connect.*Check the URL"):
        transfer(source, remote, [data.root])
    with pytest.raises(StorageError, match="s3://bucket/prefix"):
        transfer(remote, source, [data.root])


@pytest.mark.s3
def test_a_missing_bucket_is_a_clear_storage_error(
    source: ObjectStore, s3_server: S3Server
) -> None:
    data = _dataset(source)
    remote = open_object_store("s3://no-such-bucket/x", storage_options=s3_server.storage_options)
    with pytest.raises(StorageError, match=r"s3://no-such-bucket/x.*does not exist.*bucket exists"):
        transfer(source, remote, [data.root])
    existing = open_object_store(f"s3://{BUCKET}/fine", storage_options=s3_server.storage_options)
    assert transfer(source, existing, []).copied == 0


@pytest.mark.s3
def test_many_objects_are_looked_up_by_listing_not_one_request_each(
    source: ObjectStore, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [source.put_bytes(f"object {i}".encode()) for i in range(300)]
    root = source.put_tree({f"f{i}": TreeEntry(object_id, 1) for i, object_id in enumerate(ids)})
    calls = {"size": 0, "list": 0}
    for name in calls:
        real = getattr(S3Backend, name)

        def counted(self: S3Backend, key: str, _real: Any = real, _name: str = name) -> Any:
            calls[_name] += 1
            return _real(self, key)

        monkeypatch.setattr(S3Backend, name, counted)
    uri = f"s3://{BUCKET}/listed-{uuid.uuid4().hex}"
    remote = open_object_store(uri, storage_options=s3_server.storage_options)
    assert transfer(source, remote, [root]).copied == 301
    assert calls["size"] <= 10 and calls["list"] <= 256 + 10
    calls.update(size=0, list=0)
    assert transfer(source, remote, [root]).skipped == 301
    assert calls["size"] <= 10 and calls["list"] <= 256 + 10
    assert transfer(remote, source, [root]).skipped == 301  # the walk of a remote lists too
