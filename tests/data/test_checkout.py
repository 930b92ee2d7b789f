"""``checkout``: restore the data pointers name, never losing unsaved local changes."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from data_support import Recorder, blob_path, make_folder, run_git, write_file

from loopml.core.errors import InvalidArgument, InvalidState
from loopml.data._add import add
from loopml.data._checkout import checkout
from loopml.data._git import pointers_at
from loopml.data._pointer import read_pointer
from loopml.data._repo import DataRepo
from loopml.data._status import status


def test_restores_deleted_data_linked_and_protected(tracked: DataRepo) -> None:
    shutil.rmtree(tracked.root / "images")
    os.unlink(tracked.root / "model.bin")
    report = checkout(tracked)
    assert report.restored == ["images", "model.bin"] and report.complete
    assert report.files_placed == 4
    assert (tracked.root / "images" / "sub" / "c").read_text() == "ccc"
    a = tracked.root / "images" / "a"
    tree = tracked.cache.get_tree(read_pointer(tracked.root / "images.loopml").id)
    assert a.stat().st_ino == blob_path(tracked, tree["a"].id).stat().st_ino
    assert not a.stat().st_mode & stat.S_IWUSR
    assert status(tracked).clean
    assert checkout(tracked).unchanged == ["images", "model.bin"]


def test_refuses_to_overwrite_local_changes_unless_forced(tracked: DataRepo) -> None:
    write_file(tracked.root / "images" / "a", "edited")
    write_file(tracked.root / "images" / "extra", "mine")
    with pytest.raises(InvalidState) as caught:
        checkout(tracked)
    message = caught.value.message
    assert "images/a" in message and "images/extra" in message and "--force" in message
    assert (tracked.root / "images" / "a").read_text() == "edited"  # nothing touched
    report = checkout(tracked, [Path("images")], force=True)
    assert report.restored == ["images"] and report.files_removed == 1
    assert (tracked.root / "images" / "a").read_text() == "aaa"
    assert not (tracked.root / "images" / "extra").exists()
    assert status(tracked).clean


def test_changes_already_in_the_cache_are_not_local_changes(tracked: DataRepo) -> None:
    write_file(tracked.root / "images" / "a", "version two")
    add(tracked, [Path("images")])
    v2 = read_pointer(tracked.root / "images.loopml")
    write_file(tracked.root / "images" / "a", "aaa")
    add(tracked, [Path("images")])  # back to v1 content; v2's bytes stay cached
    pointer_file = tracked.root / "images.loopml"
    report = checkout(tracked, pointers={pointer_file: v2})
    assert report.restored == ["images"]
    assert (tracked.root / "images" / "a").read_text() == "version two"
    assert read_pointer(pointer_file) == v2  # the workspace pointer follows


def test_checkout_of_a_git_revision(tracked: DataRepo) -> None:
    run_git(tracked.root, "add", "-A")
    run_git(tracked.root, "commit", "-q", "-m", "v1")
    write_file(tracked.root / "images" / "b", "bbb v2")
    os.unlink(tracked.root / "images" / "sub" / "c")
    add(tracked, [Path("images")])
    run_git(tracked.root, "commit", "-qam", "v2")
    report = checkout(tracked, [Path("images")], pointers=pointers_at(tracked, "HEAD~1"))
    assert report.restored == ["images"]
    assert (tracked.root / "images" / "b").read_text() == "bbb"
    assert (tracked.root / "images" / "sub" / "c").read_text() == "ccc"
    assert "images.loopml" in run_git(tracked.root, "status", "--porcelain")
    assert status(tracked).clean
    with pytest.raises(InvalidArgument, match="none of nothing is tracked"):
        checkout(tracked, [Path("nothing")], pointers=pointers_at(tracked, "HEAD"))


def test_file_and_folder_swap_kinds(tracked: DataRepo) -> None:
    shutil.rmtree(tracked.root / "images")
    write_file(tracked.root / "images", "now a file")
    with pytest.raises(InvalidState):
        checkout(tracked, [Path("images")])
    checkout(tracked, [Path("images")], force=True)
    assert (tracked.root / "images" / "a").read_text() == "aaa"


def test_content_missing_from_the_cache_is_reported(tracked: DataRepo) -> None:
    pointer = read_pointer(tracked.root / "model.bin.loopml")
    os.unlink(tracked.root / "model.bin")
    blob_path(tracked, pointer.id).unlink()
    report = checkout(tracked)
    assert not report.complete and report.missing == {"model.bin": [""]}
    assert not (tracked.root / "model.bin").exists()


def test_checkout_reports_progress_in_bytes_and_a_large_file_while_it_is_written(
    repo: DataRepo,
) -> None:
    big = os.urandom(20 * 1024 * 1024)  # above the 8 MiB threshold: chunked, written in blocks
    write_file(repo.root / "big.bin", big)
    make_folder(repo.root / "images", {"a": "aaa", "b": "bb"})
    add(repo, [Path("big.bin"), Path("images")])
    os.chmod(repo.root / "big.bin", 0o644)
    os.unlink(repo.root / "big.bin")
    shutil.rmtree(repo.root / "images")
    progress = Recorder()
    checkout(repo, progress=progress)
    assert progress.phases == [
        ("Checking out big.bin", len(big), "bytes"),
        ("Checking out images", 5, "bytes"),
    ]
    assert progress.advanced == len(big) + 5 and progress.finished == 2
    assert len([n for n in progress.advances if n > 0]) > 3  # big.bin: block by block
    assert (repo.root / "big.bin").read_bytes() == big
