"""Packs: many small contents in one stored file, read, collected and copied like blobs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from objects_support import MiB, RawStorage

from loopml.core.errors import CorruptObject
from loopml.core.hashing import hash_bytes
from loopml.objects import (
    ObjectStore,
    TreeEntry,
    local_packed_ids,
    open_object_store,
    transfer,
)
from loopml.objects import _packs as packs_module
from loopml.objects._packs import MIN_PACKED, PACKABLE, decode_index

LATER = 10_000.0


def _files(folder: Path, count: int, size: int = 100) -> dict[Path, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i in range(count):
        data = os.urandom(size)
        (folder / f"f{i}").write_bytes(data)
        written[folder / f"f{i}"] = data
    return written


def _pack(store: ObjectStore, files: dict[Path, bytes]) -> dict[str, bytes]:
    with store.packing() as packer:
        ids = {packer.put_file(path).id: data for path, data in files.items()}
    return ids


def _pack_keys(raw: RawStorage) -> list[str]:
    return sorted(k for k in raw.list_keys() if k.startswith("packs/") and "/.tmp-" not in k)


def test_packed_contents_read_back_like_blobs(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    files = _files(tmp_path / "in", 50)
    ids = _pack(store, files)
    keys = _pack_keys(raw)
    assert len(keys) == 2  # one pack and its index
    assert not [k for k in raw.list_keys() if k.startswith("blobs/")]
    for object_id, data in ids.items():
        assert object_id == hash_bytes(data)
        assert store.exists(object_id)
        assert store.get_bytes(object_id) == data
        assert store.stat(object_id).size == len(data)
        with store.open(object_id) as stream:
            assert stream.read() == data
    target = tmp_path / "out.bin"
    first = next(iter(ids))
    store.get_file(first, target)
    assert target.read_bytes() == ids[first]
    assert set(ids) <= set(store.iter_ids())


def test_a_few_files_are_stored_as_blobs_of_their_own(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    files = _files(tmp_path / "in", MIN_PACKED - 1)
    ids = _pack(store, files)
    assert _pack_keys(raw) == []
    assert {store.get_bytes(i) for i in ids} == set(files.values())


def test_large_files_and_stored_contents_are_not_packed(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    files = _files(tmp_path / "in", MIN_PACKED + 5)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(PACKABLE + 1))
    already = store.put_file(next(iter(files))).id
    with store.packing() as packer:
        big_info = packer.put_file(big)
        ids = [packer.put_file(path).id for path in files]
        again = [packer.put_file(path).id for path in files]  # twice in one pack: once
    assert ids == again
    assert store.get_bytes(big_info.id) == big.read_bytes()
    [index_key] = [k for k in _pack_keys(raw) if k.endswith(".idx")]
    packed = {row[0] for row in decode_index(raw.read(index_key), index_key)}
    assert packed == set(ids) - {already}
    with store.packing() as packer:  # everything is stored: no new pack
        for path in files:
            packer.put_file(path)
    assert len(_pack_keys(raw)) == 2


def test_contents_are_stored_only_when_the_block_ends(store: ObjectStore, tmp_path: Path) -> None:
    files = _files(tmp_path / "in", MIN_PACKED)
    with store.packing() as packer:
        ids = [packer.put_file(path).id for path in files]
        assert not store.exists(ids[0])
    assert all(store.exists(i) for i in ids)


def test_another_store_sees_packs_written_after_it_looked(
    make_store: Callable[..., ObjectStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packs_module, "RELIST_SECONDS", 0.0)  # a remote store waits 5 s
    reader = make_store()
    writer = make_store()
    early = _pack(writer, _files(tmp_path / "a", MIN_PACKED))
    assert all(reader.exists(i) for i in early)  # loads the packs once
    late = _pack(writer, _files(tmp_path / "b", MIN_PACKED))
    for object_id, data in late.items():
        assert reader.get_bytes(object_id) == data


def test_damaged_pack_bytes_are_detected_and_can_be_stored_again(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    files = _files(tmp_path / "in", MIN_PACKED)
    ids = _pack(store, files)
    [pack_key] = [k for k in _pack_keys(raw) if k.endswith(".pack")]
    data = bytearray(raw.read(pack_key))
    data[0] ^= 0xFF  # the first content of the pack
    raw.write(pack_key, bytes(data))
    damaged = [i for i in ids if not _intact(store, i)]
    assert len(damaged) == 1
    with pytest.raises(CorruptObject, match="pack"):
        store.get_bytes(damaged[0])
    assert store.drop_packed(damaged) == 1
    assert not store.exists(damaged[0])
    source = next(p for p, d in files.items() if hash_bytes(d) == damaged[0])
    assert store.put_file(source).id == damaged[0]
    assert store.get_bytes(damaged[0]) == files[source]
    assert all(_intact(store, i) for i in ids)


def test_a_damaged_index_is_reported(store: ObjectStore, raw: RawStorage, tmp_path: Path) -> None:
    ids = _pack(store, _files(tmp_path / "in", MIN_PACKED))
    [index_key] = [k for k in _pack_keys(raw) if k.endswith(".idx")]
    data = bytearray(raw.read(index_key))
    data[20] ^= 0x01
    raw.write(index_key, bytes(data))
    fresh = ObjectStore(store._backend, uri=store.uri, chunking_threshold=MiB)
    with pytest.raises(CorruptObject, match="pack index"):
        fresh.get_bytes(next(iter(ids)))


def test_gc_deletes_a_pack_only_when_none_of_its_contents_is_reachable(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    kept_ids = _pack(store, _files(tmp_path / "kept", MIN_PACKED))
    doomed_ids = _pack(store, _files(tmp_path / "doomed", MIN_PACKED))
    one = next(iter(kept_ids))
    root = store.put_tree({"one": TreeEntry(one, len(kept_ids[one]))})
    young = store.gc([root], grace_seconds=3600)
    assert young.deleted == 0
    report = store.gc([root], grace_seconds=60, now=_now() + LATER)
    assert report.deleted == MIN_PACKED  # the other pack's contents
    assert all(store.get_bytes(i) == d for i, d in kept_ids.items())  # kept whole
    assert not any(store.exists(i) for i in doomed_ids)
    assert len(_pack_keys(raw)) == 2


def test_gc_removes_a_pack_left_without_its_index(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    _pack(store, _files(tmp_path / "in", MIN_PACKED))
    [index_key] = [k for k in _pack_keys(raw) if k.endswith(".idx")]
    raw.delete(index_key)  # as if the writer died between the pack and its index
    store.gc([], grace_seconds=60, now=_now() + LATER)
    assert _pack_keys(raw) == []


def test_transfer_copies_packed_contents_as_blobs(
    store: ObjectStore, tmp_path: Path, make_store: Callable[..., ObjectStore]
) -> None:
    ids = _pack(store, _files(tmp_path / "in", MIN_PACKED))
    root = store.put_tree({f"f{n}": TreeEntry(i, len(d)) for n, (i, d) in enumerate(ids.items())})
    remote = open_object_store(str(tmp_path / "remote"))
    report = transfer(store, remote, [root])
    assert report.complete and report.copied == MIN_PACKED + 1
    assert all(remote.get_bytes(i) == d for i, d in ids.items())
    again = transfer(store, remote, [root])
    assert again.copied == 0
    back = open_object_store(str(tmp_path / "back"))
    _pack(back, {p: p.read_bytes() for p in (tmp_path / "in").iterdir()})
    pulled = transfer(remote, back, [root])
    assert pulled.copied == 1  # only the tree: the contents are packed there already


def test_local_packed_ids_reads_the_layout(tmp_path: Path) -> None:
    store = open_object_store(str(tmp_path / "store"))
    assert local_packed_ids(str(tmp_path / "store")) == set()
    ids = _pack(store, _files(tmp_path / "in", MIN_PACKED))
    assert local_packed_ids(str(tmp_path / "store")) == set(ids)
    assert local_packed_ids(str(tmp_path / "nowhere")) == set()


def _intact(store: ObjectStore, object_id: str) -> bool:
    try:
        store.get_bytes(object_id)
    except CorruptObject:
        return False
    return True


def _now() -> float:
    return time.time()
