"""Garbage collection: reachability through trees and manifests, and the grace period."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from objects_support import MiB, RawStorage, object_key

from loopml.core.errors import InvalidArgument
from loopml.objects import GcReport, ObjectStore, TreeEntry

LATER = 10_000.0
"""Seconds after the test's writes at which every object counts as old."""


@dataclass
class Population:
    root: str
    reachable: set[str]
    garbage: set[str]
    garbage_bytes: int


def _chunks(raw: RawStorage, object_id: str) -> set[str]:
    manifest = json.loads(raw.read(object_key("manifests", object_id)))
    return {chunk_id for chunk_id, _ in manifest["chunks"]}


def _populate(store: ObjectStore, raw: RawStorage) -> Population:
    small = store.put_bytes(b"small file")
    large_data = os.urandom(6 * MiB)
    large = store.put_bytes(large_data)
    inner = store.put_tree({"large.bin": TreeEntry(large, len(large_data))})
    root = store.put_tree(
        {"small.txt": TreeEntry(small, 10), "sub": TreeEntry(inner, 0, mode=0o755)}
    )
    orphan = store.put_bytes(b"nobody points at me")
    orphan_large = store.put_bytes(os.urandom(6 * MiB))
    orphan_tree = store.put_tree({"x": TreeEntry(orphan, 19)})
    garbage = {orphan, orphan_large, orphan_tree, *_chunks(raw, orphan_large)}
    garbage_bytes = sum(
        len(raw.read(key))
        for key in raw.list_keys()
        if key.split("/")[1] + key.split("/")[2] in garbage
    )
    reachable = {small, large, inner, root, *_chunks(raw, large)}
    return Population(root, reachable, garbage, garbage_bytes)


def test_gc_deletes_only_old_unreachable_objects(store: ObjectStore, raw: RawStorage) -> None:
    pop = _populate(store, raw)
    stored = len(raw.list_keys())
    assert set(store.iter_ids()) == pop.reachable | pop.garbage

    # Everything is younger than the grace period: nothing goes.
    assert store.gc([pop.root], grace_seconds=3600) == GcReport(0, 0, stored)

    would = store.gc([pop.root], grace_seconds=60, now=time.time() + LATER, dry_run=True)
    assert would == GcReport(
        deleted=len(pop.garbage), freed_bytes=pop.garbage_bytes, kept=stored - len(pop.garbage)
    )
    assert len(raw.list_keys()) == stored  # a dry run deletes nothing

    done = store.gc([pop.root], grace_seconds=60, now=time.time() + LATER)
    assert done == would
    assert set(store.iter_ids()) == pop.reachable
    large = next(i for i in pop.reachable if store.stat(i).chunked)
    assert len(store.get_bytes(large)) == 6 * MiB
    assert store.get_tree(pop.root).paths() == ["small.txt", "sub"]

    again = store.gc([pop.root], grace_seconds=60, now=time.time() + LATER)
    assert again == GcReport(0, 0, len(raw.list_keys()))


def test_gc_with_no_roots_clears_old_objects(store: ObjectStore, raw: RawStorage) -> None:
    _populate(store, raw)
    report = store.gc([], grace_seconds=0, now=time.time() + LATER)
    assert report.kept == 0 and report.deleted > 0
    assert list(store.iter_ids()) == []


def test_missing_roots_are_ignored(store: ObjectStore) -> None:
    kept = store.put_bytes(b"kept")
    report = store.gc([kept, "f" * 64], grace_seconds=0, now=time.time() + LATER)
    assert report == GcReport(0, 0, 1)


def test_gc_arguments_are_checked(store: ObjectStore) -> None:
    with pytest.raises(InvalidArgument):
        store.gc(["not-an-id"], grace_seconds=0)
    with pytest.raises(InvalidArgument):
        store.gc("a" * 64, grace_seconds=0)
    with pytest.raises(InvalidArgument):
        store.gc([], grace_seconds=-1)


def test_young_objects_survive_beside_old_ones(tmp_path: Path) -> None:
    """Local only: file times can be set directly, so ages can differ within one test."""
    from loopml.objects import open_object_store

    root = tmp_path / "objects"
    store = open_object_store(str(root))
    old = store.put_bytes(b"old garbage")
    young = store.put_bytes(b"young garbage")
    now = time.time()
    os.utime(root / object_key("blobs", old), (now - 7200, now - 7200))
    stale_temp = root / "blobs" / "ab" / ".tmp-abandoned"
    stale_temp.parent.mkdir(parents=True, exist_ok=True)
    stale_temp.write_bytes(b"half a write")
    os.utime(stale_temp, (now - 7200, now - 7200))
    fresh_temp = root / "blobs" / "ab" / ".tmp-in-progress"
    fresh_temp.write_bytes(b"being written")

    report = store.gc([], grace_seconds=3600, now=now)
    assert report == GcReport(deleted=1, freed_bytes=len(b"old garbage"), kept=1)
    assert set(store.iter_ids()) == {young}
    assert not stale_temp.exists()
    assert fresh_temp.exists()
