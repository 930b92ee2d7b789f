"""``status``: what changed against the pointers, trusting the stat index for unchanged files."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from data_support import blob_path, write_file

from loopml.core.errors import InvalidArgument, NotFound
from loopml.data._add import add
from loopml.data._repo import DataRepo
from loopml.data._status import status


def test_clean_after_add(tracked: DataRepo) -> None:
    result = status(tracked)
    assert result.clean
    assert [(e.path, e.state) for e in result.entries] == [
        ("images", "unchanged"),
        ("model.bin", "unchanged"),
    ]


def test_added_modified_and_deleted_files(tracked: DataRepo) -> None:
    images = tracked.root / "images"
    write_file(images / "a", "AAA")  # same size, new content: hashed
    write_file(images / "b", "longer content")  # new size: no hash needed
    os.unlink(images / "sub" / "c")
    write_file(images / "new", "n")
    result = status(tracked)
    assert not result.clean
    entry = result.entries[0]
    assert entry.state == "modified"
    assert (entry.added, entry.modified, entry.deleted) == (("new",), ("a", "b"), ("sub/c",))
    assert result.entries[1].state == "unchanged"


def test_a_file_changed_in_the_same_clock_tick_is_rehashed(tracked: DataRepo) -> None:
    path = tracked.root / "images" / "a"
    soon = time.time_ns() + 10**9
    os.utime(path, ns=(soon, soon))  # as if written in the very tick add recorded it
    add(tracked, [Path("images")])
    before = path.stat()
    os.chmod(path, 0o644)
    with path.open("r+b") as out:
        out.write(b"zzz")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert status(tracked).entries[0].modified == ("a",)


def test_a_restored_file_is_unchanged_again(tracked: DataRepo) -> None:
    write_file(tracked.root / "model.bin", b"WEIGHTS")
    assert status(tracked).entries[1].modified == ("",)
    write_file(tracked.root / "model.bin", b"weights")  # same bytes, new inode and mtime
    assert status(tracked).clean


def test_unchanged_stat_is_trusted_without_rehashing(tracked: DataRepo) -> None:
    # Rewrite a file's bytes in place but give back its stat: status must not read it,
    # which is what makes it fast on 10,000 files.
    path = tracked.root / "images" / "a"
    an_hour_ago = (path.stat().st_mtime_ns // 10**9 - 3600) * 10**9
    os.utime(path, ns=(an_hour_ago, an_hour_ago))  # older than "racy" (same clock tick)
    add(tracked, [Path("images")])
    before = path.stat()
    os.chmod(path, 0o644)
    with path.open("r+b") as out:
        out.write(b"zzz")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert status(tracked).clean


def test_missing_data_and_missing_cache(tracked: DataRepo) -> None:
    shutil.rmtree(tracked.root / "images")
    result = status(tracked)
    assert result.entries[0].state == "missing" and result.entries[0].missing_data
    model = add(tracked, [Path("model.bin")])[0]
    blob_path(tracked, model.id).unlink()
    entry = status(tracked, [Path("model.bin")]).entries[0]
    assert entry.state == "not in cache" and entry.missing_cache == (model.id,)


def test_a_tree_missing_from_the_cache_is_reported(tracked: DataRepo) -> None:
    pointer = status(tracked).entries[0].pointer
    tree_file = Path(tracked.cache_uri) / "trees" / pointer.id[:2] / pointer.id[2:]
    tree_file.unlink()
    entry = status(tracked, [Path("images")]).entries[0]
    assert entry.state == "not in cache" and entry.missing_cache == (pointer.id,)


def test_targets(tracked: DataRepo) -> None:
    assert [e.path for e in status(tracked, [Path("images.loopml")]).entries] == ["images"]
    assert [e.path for e in status(tracked, [tracked.root]).entries] == ["images", "model.bin"]
    with pytest.raises(NotFound, match="not tracked; track it with `loopml data add"):
        status(tracked, [Path("elsewhere")])
    with pytest.raises(InvalidArgument, match="outside"):
        status(tracked, [tracked.root.parent])


def test_a_pointer_edited_into_nonsense_names_file_and_line(tracked: DataRepo) -> None:
    pointer_file = tracked.root / "images.loopml"
    pointer_file.write_text(pointer_file.read_text().replace("kind: dir", "kind: folder"))
    with pytest.raises(InvalidArgument) as caught:
        status(tracked)
    assert caught.value.message.startswith(f"{pointer_file}:4: invalid pointer file: kind")


def test_empty_repository(repo: DataRepo) -> None:
    result = status(repo)
    assert result.entries == () and result.clean


def test_a_blob_deleted_after_a_clean_status_is_noticed(tracked: DataRepo) -> None:
    blobs = Path(tracked.cache_uri) / "blobs"
    for shard in blobs.iterdir():  # shards untouched for an hour: their listing is trusted
        os.utime(shard, ns=(time.time_ns() - 3600 * 10**9,) * 2)
    assert status(tracked).clean
    assert status(tracked).clean  # now answered from the remembered shard times
    model = status(tracked, [Path("model.bin")]).entries[0].pointer
    blob_path(tracked, model.id).unlink()
    assert status(tracked).entries[1].missing_cache == (model.id,)
