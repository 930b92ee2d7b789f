"""``verify``: re-hash the cache the pointers need; repair damaged objects from a remote."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_support import blob_path, make_folder

from loopml.core.errors import InvalidArgument
from loopml.data._add import add
from loopml.data._checkout import checkout
from loopml.data._config import Remote, RepoConfig
from loopml.data._remote import push
from loopml.data._repo import DataRepo
from loopml.data._status import status
from loopml.data._verify import verify


@pytest.fixture
def tracked(repo: DataRepo) -> DataRepo:
    make_folder(repo.root / "images", {"a": "aaaa", "b": "bbbb"})
    add(repo, [Path("images")])
    return repo


def _damage(path: Path) -> None:
    os.chmod(path, 0o644)
    with path.open("r+b") as out:
        out.write(b"X")


def test_intact_cache(tracked: DataRepo) -> None:
    report = verify(tracked)
    assert report.ok and report.checked == 3 and report.bytes == 8
    assert report.remote is None


def test_damage_without_remote_is_reported_and_removed(tracked: DataRepo) -> None:
    tree = tracked.cache.get_tree(status(tracked).entries[0].pointer.id)
    damaged = blob_path(tracked, tree["a"].id)
    _damage(damaged)
    report = verify(tracked)
    assert not report.ok and report.corrupt == [tree["a"].id] and report.repaired == []
    assert report.files_in_doubt == 1
    assert not damaged.exists()  # so the next fetch brings a good copy
    entry = status(tracked).entries[0]
    assert entry.modified == ("a",) and entry.missing_cache == (tree["a"].id,)


def test_damage_is_repaired_from_the_remote(tracked: DataRepo, tmp_path: Path) -> None:
    tracked.save_config(
        RepoConfig(
            remotes={"store": Remote("store", str(tmp_path / "remote"))}, default_remote="store"
        )
    )
    push(tracked)
    tree = tracked.cache.get_tree(status(tracked).entries[0].pointer.id)
    _damage(blob_path(tracked, tree["b"].id))
    report = verify(tracked)
    assert report.ok and report.remote == "store"
    assert report.corrupt == [tree["b"].id] and report.repaired == [tree["b"].id]
    assert tracked.cache.get_bytes(tree["b"].id) == b"bbbb"
    checkout(tracked, force=True)  # the workspace shared the damaged bytes
    assert (tracked.root / "images" / "b").read_text() == "bbbb"
    assert status(tracked).clean


def test_missing_object_is_fetched(tracked: DataRepo, tmp_path: Path) -> None:
    tracked.save_config(
        RepoConfig(
            remotes={"store": Remote("store", str(tmp_path / "remote"))}, default_remote="store"
        )
    )
    push(tracked)
    pointer = status(tracked).entries[0].pointer
    tree_file = Path(tracked.cache_uri) / "trees" / pointer.id[:2] / pointer.id[2:]
    tree_file.unlink()
    report = verify(tracked)
    assert report.missing == [pointer.id] and report.repaired == [pointer.id] and report.ok


def test_unknown_remote(tracked: DataRepo) -> None:
    with pytest.raises(InvalidArgument, match="no remote named 'nope'"):
        verify(tracked, remote="nope")
