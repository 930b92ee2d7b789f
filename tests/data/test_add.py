"""``add``: content stored, pointer written, workspace linked and protected, bad input refused."""

from __future__ import annotations

import dataclasses
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from data_support import Recorder, blob_path, make_folder, write_file

from loopml.core.errors import InvalidArgument, InvalidState, NotFound
from loopml.core.settings import Settings
from loopml.data._add import add
from loopml.data._config import read_config
from loopml.data._pointer import read_pointer
from loopml.data._repo import DataRepo
from loopml.data._status import status
from loopml.objects import open_object_store


def test_add_folder_writes_pointer_gitignore_and_links(repo: DataRepo) -> None:
    make_folder(repo.root / "images", {"a.png": "aaa", "sub/b.png": "bb", "run.sh": "#!/bin/sh"})
    os.chmod(repo.root / "images" / "run.sh", 0o755)
    [pointer] = add(repo, [Path("images")])
    assert (pointer.path, pointer.kind, pointer.files, pointer.size) == ("images", "dir", 3, 14)
    assert read_pointer(repo.root / "images.loopml") == pointer
    tree = repo.cache.get_tree(pointer.id)
    assert sorted(tree) == ["a.png", "run.sh", "sub/b.png"]
    assert tree["run.sh"].mode == 0o755 and tree["a.png"].mode == 0o644
    assert repo.cache.get_bytes(tree["sub/b.png"].id) == b"bb"
    assert (repo.root / ".gitignore").read_text() == "/images\n"
    # The workspace file is the cached blob, read-only, so an in-place edit cannot corrupt it.
    a = repo.root / "images" / "a.png"
    assert a.stat().st_ino == blob_path(repo, tree["a.png"].id).stat().st_ino
    assert not a.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert a.stat().st_mode & stat.S_IXUSR == 0
    assert (repo.root / "images" / "run.sh").stat().st_mode & stat.S_IXUSR


def test_add_again_is_idempotent_and_sees_changes(repo: DataRepo) -> None:
    make_folder(repo.root / "data", {"x.csv": "a,b\n1,2\n", "y.csv": "c\n3\n"})
    first = add(repo, [repo.root / "data"])[0]
    assert add(repo, [Path("data")])[0] == first
    assert (repo.root / ".gitignore").read_text().count("/data") == 1
    write_file(repo.root / "data" / "x.csv", "a,b\n1,2\n5,6\n")
    second = add(repo, [Path("data")])[0]
    assert second.id != first.id and second.size == first.size + 4
    assert status(repo).clean


def test_add_single_file_and_gitignore_escaping(repo: DataRepo) -> None:
    (repo.root / ".gitignore").write_text("*.pyc")  # no trailing newline
    write_file(repo.root / "sub" / "#weird[1].bin", b"\x00\x01")
    [pointer] = add(repo, [Path("sub/#weird[1].bin")])
    assert (pointer.kind, pointer.files, pointer.size) == ("file", 1, 2)
    assert (repo.root / "sub" / ".gitignore").read_text() == "/\\#weird\\[1\\].bin\n"
    assert (repo.root / "sub" / "#weird[1].bin.loopml").is_file()
    done = subprocess.run(
        ["git", "check-ignore", "-q", "sub/#weird[1].bin"], cwd=repo.root, check=False
    )
    assert done.returncode == 0  # git really ignores the data path


def test_large_file_is_chunked_and_kept_in_place(git_root: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", chunking_threshold_bytes=64 * 1024)
    repo = DataRepo.init(git_root, settings=settings)
    # Larger than the 4 MiB maximum chunk, so it is always cut (3 MiB of random bytes
    # had no cut point about one time in twenty).
    big = write_file(repo.root / "big.bin", os.urandom(9 * 1024 * 1024))
    inode = big.stat().st_ino
    [pointer] = add(repo, [big])
    assert repo.cache.stat(pointer.id).chunked
    assert big.stat().st_ino == inode and os.access(big, os.W_OK)  # the user's file, untouched
    # A local edit costs only the chunks around it.
    objects = set(repo.cache.iter_ids())
    with big.open("r+b") as out:
        out.seek(1024 * 1024)
        out.write(os.urandom(1024))
    edited = add(repo, [big])[0]
    assert edited.id != pointer.id
    new = set(repo.cache.iter_ids()) - objects
    assert 2 <= len(new) <= 6  # a manifest and a few chunks, not the whole file
    repo.close()


def test_bad_paths_are_refused_before_anything_is_written(repo: DataRepo, tmp_path: Path) -> None:
    outside = write_file(tmp_path / "outside.txt", "x")
    with pytest.raises(InvalidArgument, match="outside the data repository"):
        add(repo, [outside])
    with pytest.raises(NotFound, match="does not exist"):
        add(repo, [Path("nothing")])
    make_folder(repo.root / "images", {"a": "a"})
    add(repo, [Path("images")])
    with pytest.raises(InvalidArgument, match="is a pointer file"):
        add(repo, [Path("images.loopml")])
    with pytest.raises(InvalidArgument, match="inside the tracked folder images"):
        add(repo, [Path("images/a")])
    (repo.root / "images.loopml").unlink()
    (repo.root / "parent").mkdir()
    os.rename(repo.root / "images", repo.root / "parent" / "images")
    add(repo, [Path("parent/images")])
    with pytest.raises(InvalidArgument, match="contains tracked data"):
        add(repo, [Path("parent")])
    with pytest.raises(InvalidArgument, match="list of paths"):
        add(repo, Path("parent"))  # type: ignore[arg-type]
    (repo.root / "link").symlink_to(repo.root / "parent")
    with pytest.raises(InvalidArgument, match="is a symbolic link"):
        add(repo, [Path("link")])
    fifo = repo.root / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgument, match="not a regular file"):
        add(repo, [fifo])
    assert not (repo.root / "pipe.loopml").exists()


def test_missing_data_with_pointer_hints_checkout(repo: DataRepo) -> None:
    write_file(repo.root / "f", "x")
    add(repo, [Path("f")])
    os.unlink(repo.root / "f")
    with pytest.raises(NotFound, match="loopml data checkout"):
        add(repo, [Path("f")])


_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from loopml.data._repo import DataRepo
    with DataRepo(Path(sys.argv[1])).lock():
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_two_adds_at_once_the_second_fails_cleanly(repo: DataRepo) -> None:
    write_file(repo.root / "f", "x")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(repo.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(InvalidState, match="another loopml data command is running"):
            add(repo, [Path("f")])
    finally:
        holder.kill()
        holder.wait()
    assert not (repo.root / "f.loopml").exists()
    add(repo, [Path("f")])


_ADD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from loopml.data._add import add
from loopml.data._config import read_config
    from loopml.data._repo import DataRepo
    add(DataRepo(Path(sys.argv[1])), [Path(sys.argv[1]) / "many"])
    """
)


def test_an_interrupted_add_leaves_a_valid_cache_and_a_rerun_finishes(repo: DataRepo) -> None:
    make_folder(repo.root / "many", {f"d{i % 7}/f{i}": os.urandom(2048) for i in range(3000)})
    blobs = Path(repo.cache_uri) / "blobs"
    worker = subprocess.Popen([sys.executable, "-c", _ADD, str(repo.root)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        if blobs.is_dir() and sum(1 for _ in blobs.rglob("*")) > 400:
            break
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    store = open_object_store(repo.cache_uri)
    for object_id in store.iter_ids():
        store.get_bytes(object_id)  # every stored object is whole and verifies
    [pointer] = add(repo, [Path("many")])
    assert pointer.files == 3000
    assert status(repo).clean


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="root's default")
def test_root_never_hardlinks_by_default_so_a_redirect_cannot_damage_the_cache(
    repo: DataRepo,
) -> None:
    repo.save_config(dataclasses.replace(repo.config(), link=None))
    repo.index.set_meta("link_mode", "hardlink")  # remembered from an earlier, configured run
    (repo.root / "train.csv").write_text("a,b\n1,2\n")
    (pointer,) = add(repo, [Path("train.csv")])
    assert os.stat(repo.root / "train.csv").st_nlink == 1  # a copy, not the cached blob
    (repo.root / "train.csv").write_text("overwritten in place\n")  # root ignores 0444 anyway
    assert repo.cache.get_bytes(pointer.id) == b"a,b\n1,2\n"


def test_bad_link_setting_is_refused(repo: DataRepo) -> None:
    (repo.meta / "config.toml").write_text('[core]\nlink = "symlink"\n')
    with pytest.raises(InvalidArgument, match="link must be one of reflink, hardlink, copy"):
        read_config(repo.meta / "config.toml")


def test_add_reports_progress_in_bytes_and_a_large_file_while_it_is_read(repo: DataRepo) -> None:
    """Small files count once stored; a chunked file's bytes count as they are read."""
    big = os.urandom(40 * 1024 * 1024)  # above the 8 MiB threshold: stored chunked, read in parts
    make_folder(repo.root / "data", {"a.txt": "aaa", "b.txt": "bb", "big.bin": big})
    progress = Recorder()
    add(repo, [Path("data")], progress=progress)
    total = 3 + 2 + len(big)
    assert progress.phases == [("Storing data", total, "bytes")]
    assert progress.advanced == total and progress.finished == 1
    assert len([n for n in progress.advances if n > 0]) >= 3  # big.bin: several reads
    progress = Recorder()  # nothing changed: the files are not read, yet all are counted
    add(repo, [Path("data")], progress=progress)
    assert progress.advanced == total
