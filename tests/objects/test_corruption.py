"""Damaged bytes on storage are detected on every read path; get_file stays atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from objects_support import MiB, RawStorage, flip_byte, object_key

from loopml.core.errors import CorruptObject
from loopml.objects import ObjectStore, TreeEntry


def _assert_every_read_fails(store: ObjectStore, object_id: str, tmp: Path, match: str) -> None:
    out = tmp / "out"
    out.mkdir()
    with pytest.raises(CorruptObject, match=match):
        store.get_bytes(object_id)
    with store.open(object_id) as stream, pytest.raises(CorruptObject, match=match):
        stream.read()
    with store.open(object_id) as stream, pytest.raises(CorruptObject, match=match):
        while stream.read(100_000):
            pass
    dest = out / "dest.bin"
    dest.write_bytes(b"previous content")
    with pytest.raises(CorruptObject, match=match):
        store.get_file(object_id, dest)
    assert dest.read_bytes() == b"previous content"
    fresh = out / "fresh.bin"
    with pytest.raises(CorruptObject):
        store.get_file(object_id, fresh)
    assert sorted(p.name for p in out.iterdir()) == ["dest.bin"]  # no temp file, no partial


def test_a_flipped_byte_in_a_plain_blob_is_detected(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    data = os.urandom(100_000)
    object_id = store.put_bytes(data)
    key = object_key("blobs", object_id)
    raw.write(key, flip_byte(raw.read(key)))
    _assert_every_read_fails(store, object_id, tmp_path, match=f"object {object_id} is corrupt")
    with pytest.raises(CorruptObject, match="restore the object from a remote copy"):
        store.get_bytes(object_id)
    assert store.exists(object_id)  # stat and exists do not read content
    assert store.stat(object_id).size == len(data)


def test_the_corruption_error_is_sticky_on_an_open_stream(
    store: ObjectStore, raw: RawStorage
) -> None:
    object_id = store.put_bytes(b"x" * 5000)
    key = object_key("blobs", object_id)
    raw.write(key, flip_byte(raw.read(key)))
    with store.open(object_id) as stream:
        with pytest.raises(CorruptObject):
            stream.read()
        with pytest.raises(CorruptObject):
            stream.read()


def _first_chunk(raw: RawStorage, object_id: str) -> str:
    manifest = json.loads(raw.read(object_key("manifests", object_id)))
    return str(manifest["chunks"][0][0])


def test_a_flipped_byte_in_a_chunk_is_detected(
    store: ObjectStore, raw: RawStorage, tmp_path: Path
) -> None:
    data = os.urandom(6 * MiB)
    object_id = store.put_bytes(data)
    chunk_id = _first_chunk(raw, object_id)
    key = object_key("blobs", chunk_id)
    raw.write(key, flip_byte(raw.read(key)))
    _assert_every_read_fails(
        store, object_id, tmp_path, match=f"chunk {chunk_id} of object {object_id} is corrupt"
    )


def test_a_missing_chunk_is_reported(store: ObjectStore, raw: RawStorage, tmp_path: Path) -> None:
    object_id = store.put_bytes(os.urandom(6 * MiB))
    chunk_id = _first_chunk(raw, object_id)
    raw.delete(object_key("blobs", chunk_id))
    _assert_every_read_fails(store, object_id, tmp_path, match=f"chunk {chunk_id} is missing")


def test_a_damaged_manifest_is_detected(store: ObjectStore, raw: RawStorage) -> None:
    object_id = store.put_bytes(os.urandom(6 * MiB))
    key = object_key("manifests", object_id)
    raw.write(key, b"{not json")
    with pytest.raises(CorruptObject, match="manifest"):
        store.get_bytes(object_id)
    with pytest.raises(CorruptObject, match="manifest"):
        store.stat(object_id)

    # A well-formed manifest that lists the wrong chunks fails the whole-content check.
    other = store.put_bytes(os.urandom(6 * MiB))
    raw.write(key, raw.read(object_key("manifests", other)))
    with pytest.raises(CorruptObject, match=f"object {object_id} is corrupt"):
        store.get_bytes(object_id)


def test_a_damaged_tree_is_detected(store: ObjectStore, raw: RawStorage) -> None:
    blob = store.put_bytes(b"content")
    tree_id = store.put_tree({"f": TreeEntry(blob, 7)})
    key = object_key("trees", tree_id)
    raw.write(key, raw.read(key).replace(b'"f"', b'"g"'))
    with pytest.raises(CorruptObject, match=tree_id):
        store.get_tree(tree_id)
    with pytest.raises(CorruptObject):
        store.gc([tree_id], grace_seconds=0)
    assert store.exists(blob)  # an unreadable root aborts gc before it deletes anything


def test_get_file_replaces_dest_only_when_complete(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(3 * MiB)
    object_id = store.put_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "dest.bin"
    dest.write_bytes(b"old")
    store.get_file(object_id, dest)
    assert dest.read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["dest.bin"]
