"""``gc``: delete only cached objects this repository added and nothing needs any more."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_support import make_folder, run_git, write_file

from loopml.data._add import add
from loopml.data._gc import gc
from loopml.data._repo import DataRepo
from loopml.data._status import status


@pytest.fixture
def versions(repo: DataRepo) -> tuple[DataRepo, str, str]:
    """Two versions of a folder added in turn: the ids of v1's and v2's file 'a'."""
    make_folder(repo.root / "data", {"a": "version one", "b": "same in both"})
    v1 = add(repo, [Path("data")])[0]
    old_a = repo.cache.get_tree(v1.id)["a"].id
    write_file(repo.root / "data" / "a", "version two!")
    v2 = add(repo, [Path("data")])[0]
    return repo, old_a, repo.cache.get_tree(v2.id)["a"].id


def test_collects_what_no_pointer_needs(versions: tuple[DataRepo, str, str]) -> None:
    repo, old_a, new_a = versions
    dry = gc(repo, dry_run=True, grace_seconds=0)
    assert dry.dry_run and dry.deleted == 2  # v1's tree and v1's file a
    assert repo.cache.exists(old_a)
    report = gc(repo, grace_seconds=0)
    assert report.deleted == 2 and report.freed_bytes > 0
    assert not repo.cache.exists(old_a) and repo.cache.exists(new_a)
    assert status(repo).clean
    assert gc(repo, grace_seconds=0).deleted == 0


def test_grace_period_keeps_young_objects(versions: tuple[DataRepo, str, str]) -> None:
    repo, old_a, _ = versions
    assert gc(repo, grace_seconds=3600).deleted == 0
    assert repo.cache.exists(old_a)


def test_all_commits_keeps_every_committed_version(versions: tuple[DataRepo, str, str]) -> None:
    repo, old_a, _ = versions
    write_file(repo.root / "data" / "a", "version one")
    add(repo, [Path("data")])
    run_git(repo.root, "add", "-A")
    run_git(repo.root, "commit", "-q", "-m", "v1")
    write_file(repo.root / "data" / "a", "version three")
    add(repo, [Path("data")])
    assert gc(repo, all_commits=True, grace_seconds=0).deleted == 2  # v2: its tree, its a
    assert repo.cache.exists(old_a)


def test_objects_of_others_in_the_shared_store_survive(
    versions: tuple[DataRepo, str, str],
) -> None:
    repo, old_a, _ = versions
    foreign = repo.cache.put_bytes(b"a model's weights, stored by someone else")
    from loopml.tracking import Client

    client = Client(None, settings=repo.settings)
    try:
        run_id = client.create_run("0").info.run_id
        client.log_text(run_id, "version one", "copy_of_a.txt")  # a run uses v1's bytes
        client.flush()
    finally:
        client.close()
    report = gc(repo, grace_seconds=0)
    assert report.deleted == 1  # v1's tree only
    assert repo.cache.exists(foreign) and repo.cache.exists(old_a)


def test_nothing_tracked_nothing_deleted(repo: DataRepo) -> None:
    foreign = repo.cache.put_bytes(b"x")
    assert gc(repo, grace_seconds=0).deleted == 0
    assert repo.cache.exists(foreign)


def test_the_platform_gc_keeps_every_version_a_repository_added(
    versions: tuple[DataRepo, str, str],
) -> None:
    """`loopml gc` sees runs and models, not pointer files: the repository's pin protects them."""
    repo, old_a, new_a = versions
    platform = repo.cache.gc(set(), grace_seconds=0)  # no root at all but the pins
    assert platform.deleted == 0
    assert repo.cache.exists(old_a) and repo.cache.exists(new_a)
    # The repository's own gc (which reads its pointers) still collects, and unpins what it took.
    assert gc(repo, grace_seconds=0).deleted == 2
    assert not repo.cache.exists(old_a)
    assert all(repo.cache.exists(oid) for oid in repo.cache.pinned(repo.pin_name))
    assert repo.cache.gc(set(), grace_seconds=0).deleted == 0  # the current version stays pinned
    assert status(repo).clean
