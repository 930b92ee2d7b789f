"""Copy-mode adds store many small files as one pack: every verb still sees each file."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from data_git_support import commit, data_repo, git, write

from loopml.data._add import add
from loopml.data._checkout import checkout
from loopml.data._config import Remote
from loopml.data._gc import gc
from loopml.data._remote import pull, push
from loopml.data._repo import DataRepo
from loopml.data._status import status
from loopml.data._verify import verify
from loopml.objects import local_packed_ids, open_object_store

COUNT = 200


@pytest.fixture
def repo(tmp_path: Path) -> DataRepo:
    """A repository that copies (never links) workspace files, with a local remote."""
    data = data_repo(tmp_path / "repo")
    remote = Remote("origin", str(tmp_path / "remote"), {})
    config = dataclasses.replace(
        data.config(), link="copy", remotes={"origin": remote}, default_remote="origin"
    )
    data.save_config(config)
    return data


def _samples(root: Path, count: int = COUNT, size: int = 512) -> dict[str, bytes]:
    files = {f"samples/s{i:04d}.bin": os.urandom(size) for i in range(count)}
    for rel, content in files.items():
        write(root / rel, content)
    return files


def _pack_files(repo: DataRepo) -> list[Path]:
    folder = Path(repo.cache_root) / "packs"
    return sorted(p for p in folder.iterdir() if p.suffix == ".pack") if folder.is_dir() else []


def test_small_files_go_into_one_pack_and_status_sees_them(repo: DataRepo) -> None:
    files = _samples(repo.root)
    [pointer] = add(repo, [repo.root / "samples"])
    assert pointer.files == COUNT
    assert len(_pack_files(repo)) == 1
    assert not (Path(repo.cache_root) / "blobs").exists()
    tree = repo.cache.get_tree(pointer.id)
    assert set(tree.paths()) == {rel.removeprefix("samples/") for rel in files}
    assert {e.id for e in tree.entries.values()} <= local_packed_ids(repo.cache_root)
    assert status(repo).clean
    assert status(repo).clean  # the second answer comes from the remembered folder dates
    write(repo.root / "samples" / "s0007.bin", b"changed")
    [entry] = status(repo).entries
    assert entry.modified == ("s0007.bin",)


def test_status_notices_a_pack_deleted_from_the_cache(repo: DataRepo) -> None:
    _samples(repo.root)
    add(repo, [repo.root / "samples"])
    assert status(repo).clean
    time.sleep(0.06)  # past the folder-date granularity margin
    assert status(repo).clean
    [pack] = _pack_files(repo)
    pack.with_suffix(".idx").unlink()
    pack.unlink()
    [entry] = status(repo).entries
    assert entry.state == "not in cache" and len(entry.missing_cache) == COUNT


def test_checkout_and_readers_take_files_out_of_the_pack(repo: DataRepo, tmp_path: Path) -> None:
    files = _samples(repo.root)
    add(repo, [repo.root / "samples"])
    for rel in list(files)[:5]:
        (repo.root / rel).unlink()
    checkout(repo)
    for rel, content in files.items():
        assert (repo.root / rel).read_bytes() == content
    assert status(repo).clean


def test_push_pull_and_verify_repair_of_a_damaged_pack(
    repo: DataRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _samples(repo.root)
    add(repo, [repo.root / "samples"])
    report = push(repo)
    assert report.complete and report.copied == COUNT + 1
    [pack] = _pack_files(repo)
    data = bytearray(pack.read_bytes())
    data[10] ^= 0xFF  # damages the first file of the pack
    pack.write_bytes(bytes(data))
    checked = verify(repo)
    assert len(checked.corrupt) == 1 and checked.repaired == checked.corrupt
    assert verify(repo).ok
    assert push(repo).copied == 0

    commit(repo.root, "samples")
    clone_root = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo.root), str(clone_root))
    monkeypatch.setenv("LOOPML_HOME", str(tmp_path / "clone-home"))
    clone = DataRepo.find(clone_root)
    pulled = pull(clone)
    assert pulled.complete
    for rel, content in files.items():
        assert (clone_root / rel).read_bytes() == content


def test_gc_keeps_a_pack_while_any_of_its_files_is_tracked(repo: DataRepo) -> None:
    files = _samples(repo.root)
    add(repo, [repo.root / "samples"])
    for rel in list(files)[1:]:
        write(repo.root / rel, os.urandom(300))  # a new version of every file but s0000
    add(repo, [repo.root / "samples"])
    assert len(_pack_files(repo)) == 2
    gc(repo, grace_seconds=0)
    assert len(_pack_files(repo)) == 2  # the first pack still holds s0000
    (repo.root / "samples" / "s0000.bin").unlink()
    add(repo, [repo.root / "samples"])
    report = gc(repo, grace_seconds=0)
    assert report.deleted >= COUNT  # the first pack's contents, and the old trees
    assert len(_pack_files(repo)) == 1
    assert status(repo).clean and verify(repo).ok


_ADD = """
import sys
from pathlib import Path
from loopml.data._add import add
from loopml.data._repo import DataRepo
add(DataRepo(Path(sys.argv[1])), [Path(sys.argv[1]) / "samples"])
"""


def test_a_killed_add_leaves_a_valid_cache_and_a_rerun_finishes(repo: DataRepo) -> None:
    _samples(repo.root, count=3000, size=2048)
    worker = subprocess.Popen([sys.executable, "-c", _ADD, str(repo.root)])
    time.sleep(0.8)  # somewhere in reading the files, or writing the pack
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    store = open_object_store(repo.cache_uri)
    for object_id in store.iter_ids():
        store.get_bytes(object_id)  # every stored object is whole and verifies
    [pointer] = add(repo, [repo.root / "samples"])
    assert pointer.files == 3000
    assert status(repo).clean
    assert verify(repo).ok
