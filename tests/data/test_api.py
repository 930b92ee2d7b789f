"""``lm.data.open`` / ``lm.data.get``: reading tracked data at a git revision."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from data_git_support import blob_file, commit, data_repo, remove, track, tree_file, write

import loopml.data as ld
from loopml.core.errors import AlreadyExists, CorruptObject, InvalidArgument, NotFound
from loopml.core.hashing import hash_bytes
from loopml.data._config import Remote, RepoConfig
from loopml.data._pointer import Pointer, write_pointer
from loopml.data._repo import DataRepo
from loopml.objects import TreeEntry, open_object_store


@pytest.fixture
def repo(tmp_path: Path) -> DataRepo:
    return data_repo(tmp_path / "repo")


@pytest.fixture
def versions(repo: DataRepo) -> tuple[str, str]:
    """Two commits: v1 and v2 of ``train.csv`` and of the folder ``images``."""
    write(repo.root / "train.csv", "x\n1\n")
    write(repo.root / "images" / "cat.png", b"cat v1")
    write(repo.root / "images" / "deep" / "dog.png", b"dog")
    track(repo, "train.csv", "images")
    first = commit(repo.root, "v1")
    write(repo.root / "train.csv", "x\n1\n2\n")
    write(repo.root / "images" / "cat.png", b"cat v2")
    track(repo, "train.csv", "images")
    second = commit(repo.root, "v2")
    return first, second


def test_open_reads_each_version(repo: DataRepo, versions: tuple[str, str]) -> None:
    first, _ = versions
    with ld.open("train.csv", first, repo=repo) as f:
        assert f.read() == b"x\n1\n"
    with ld.open("train.csv", "HEAD", repo=repo) as f:
        assert f.read() == b"x\n1\n2\n"
    with ld.open("images/cat.png", f"{first[:8]}", repo=repo) as f:
        assert f.read() == b"cat v1"
    with ld.open("images/deep/dog.png", repo=repo) as f:
        assert f.read() == b"dog"
    with ld.open("train.csv", first, "r", repo=repo) as text:
        assert text.readlines() == ["x\n", "1\n"]
    with ld.open("train.csv", mode="rt", repo=repo, encoding="ascii") as text:
        assert text.read() == "x\n1\n2\n"
    with ld.open(repo.root / "train.csv.loopml", first, repo=repo) as f:
        assert f.read() == b"x\n1\n"  # the pointer file stands for its data


def test_the_workspace_version_is_the_pointer_not_the_edited_file(
    repo: DataRepo, versions: tuple[str, str]
) -> None:
    write(repo.root / "train.csv", "edited but not added\n")
    with ld.open("train.csv", repo=repo) as f:
        assert f.read() == b"x\n1\n2\n"


def test_without_repo_paths_are_relative_to_the_current_folder(
    repo: DataRepo, versions: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.root / "images")
    with ld.open("cat.png", versions[0]) as f:
        assert f.read() == b"cat v1"
    remove(repo.root / "images")  # the data may be absent from the workspace
    monkeypatch.chdir(repo.root)
    with ld.open("images/deep/dog.png") as f:
        assert f.read() == b"dog"


def test_open_refuses_folders_write_modes_and_untracked_paths(
    tmp_path: Path, repo: DataRepo, versions: tuple[str, str]
) -> None:
    first, _ = versions
    with pytest.raises(InvalidArgument, match=r"images is a folder.*loopml.data.get"):
        ld.open("images", first, repo=repo)
    with pytest.raises(InvalidArgument, match="images/deep is a folder"):
        ld.open("images/deep", repo=repo)
    for mode in ("wb", "w", "ab", "r+b"):
        with pytest.raises(InvalidArgument, match="read-only"):
            ld.open("train.csv", None, mode, repo=repo)  # type: ignore[call-overload]
    with pytest.raises(InvalidArgument, match="text mode only"):
        ld.open("train.csv", None, "rb", repo=repo, encoding="utf-8")  # type: ignore[call-overload]
    with pytest.raises(NotFound, match=r"other.csv is not tracked in the workspace.*data add"):
        ld.open("other.csv", repo=repo)
    with pytest.raises(NotFound, match=rf"other.csv is not tracked at {first} \({first[:12]}\)"):
        ld.open("other.csv", first, repo=repo)
    with pytest.raises(NotFound, match=r"no nope.png in the tracked folder images"):
        ld.open("images/nope.png", first, repo=repo)
    with pytest.raises(NotFound, match=r"train\.csv is a tracked file, not a folder"):
        ld.open("train.csv/x", repo=repo)
    with pytest.raises(InvalidArgument, match=r"unknown git revision 'v9': check `git log`"):
        ld.open("train.csv", "v9", repo=repo)
    with pytest.raises(InvalidArgument, match="empty"):
        ld.open("", repo=repo)


@pytest.mark.parametrize(
    "path", ["../outside.txt", "images/../../outside.txt", "/etc/passwd", ".git/config"]
)
def test_paths_cannot_escape_the_repository(
    repo: DataRepo, versions: tuple[str, str], path: str
) -> None:
    with pytest.raises(InvalidArgument, match=r"outside the data repository|inside \.git"):
        ld.open(path, repo=repo)
    with pytest.raises(InvalidArgument, match=r"outside the data repository|inside \.git"):
        ld.get(path, repo.root.parent / "out", repo=repo)


def test_get_a_file_and_a_folder_at_a_revision(
    tmp_path: Path, repo: DataRepo, versions: tuple[str, str]
) -> None:
    first, _ = versions
    out = ld.get("train.csv", tmp_path / "out" / "train-v1.csv", first, repo=repo)
    assert out == tmp_path / "out" / "train-v1.csv"
    assert out.read_bytes() == b"x\n1\n"
    assert os.access(out, os.W_OK)  # a copy, not a protected link into the cache
    folder = ld.get("images", tmp_path / "images-v1", first, repo=repo)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "cat.png",
        "deep/dog.png",
    ]
    assert (folder / "cat.png").read_bytes() == b"cat v1"
    sub = ld.get("images/deep", tmp_path / "deep", repo=repo)
    assert [p.name for p in sub.iterdir()] == ["dog.png"]
    one = ld.get("images/cat.png", tmp_path / "cat.png", repo=repo)
    assert one.read_bytes() == b"cat v2"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".loopml-get-")]


def test_get_refuses_to_overwrite_unless_forced(
    tmp_path: Path, repo: DataRepo, versions: tuple[str, str]
) -> None:
    first, _ = versions
    target = write(tmp_path / "taken.csv", "mine")
    with pytest.raises(AlreadyExists, match="force=True"):
        ld.get("train.csv", target, repo=repo)
    assert target.read_text() == "mine"
    ld.get("train.csv", target, first, repo=repo, force=True)
    assert target.read_bytes() == b"x\n1\n"
    folder = tmp_path / "folder"
    write(folder / "old.txt", "old")
    with pytest.raises(AlreadyExists):
        ld.get("images", folder, repo=repo)
    ld.get("images", folder, repo=repo, force=True)
    assert sorted(p.name for p in folder.iterdir()) == ["cat.png", "deep"]
    ld.get("train.csv", folder, repo=repo, force=True)  # a file may replace a folder
    assert folder.read_bytes() == b"x\n1\n2\n"
    ld.get("images", folder, repo=repo, force=True)  # and the other way round
    assert folder.is_dir()


def test_damaged_cache_bytes_fail_and_leave_nothing_behind(
    tmp_path: Path, repo: DataRepo, versions: tuple[str, str]
) -> None:
    pointer = ld.read_pointer(repo.root / "train.csv.loopml")
    damaged = blob_file(repo, pointer.id)
    remove(repo.root / "train.csv")  # the workspace copy shares the cache file's inode
    tmp = damaged.with_name("replacement")
    tmp.write_bytes(b"x\n9\n9\n")
    os.replace(tmp, damaged)
    with ld.open("train.csv", repo=repo) as f, pytest.raises(CorruptObject):
        f.read()
    with pytest.raises(CorruptObject):
        ld.get("train.csv", tmp_path / "copy.csv", repo=repo)
    assert not (tmp_path / "copy.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".loopml-get-")]


def test_missing_objects_come_from_the_default_remote(
    tmp_path: Path, repo: DataRepo, versions: tuple[str, str]
) -> None:
    first, _ = versions
    images_v1 = ld.log(repo, repo.root / "images")[-1].pointer
    assert images_v1 is not None
    tree = repo.cache.get_tree(images_v1.id)
    cat = tree["cat.png"]
    tree_file(repo, images_v1.id).unlink()
    remove(repo.root / "images")
    blob_file(repo, cat.id).unlink()
    with pytest.raises(NotFound, match=r"not in the cache.*no default remote.*loopml data fetch"):
        ld.open("images/cat.png", first, repo=repo)

    remote = open_object_store(str(tmp_path / "remote"))
    remote.put_tree(dict(tree.entries))
    remote.put_bytes(b"cat v1")
    repo.save_config(
        RepoConfig(remotes={"r": Remote("r", str(tmp_path / "remote"))}, default_remote="r")
    )
    with ld.open("images/cat.png", first, repo=repo) as f:
        assert f.read() == b"cat v1"
    assert ld.get("images", tmp_path / "v1", first, repo=repo).joinpath("cat.png").is_file()
    assert not blob_file(repo, cat.id).exists()  # read through, not cached

    remove(tmp_path / "remote" / "blobs")
    with pytest.raises(NotFound, match=r"nor in the remote 'r'.*loopml data push"):
        ld.open("images/cat.png", first, repo=repo)


def test_a_tree_with_an_escaping_path_is_refused_before_any_write(
    tmp_path: Path, repo: DataRepo
) -> None:
    blob = repo.cache.put_bytes(b"evil")
    body = {"entries": {"../../escape.txt": {"id": blob, "mode": 420, "size": 4}}, "version": 1}
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    tree_id = hash_bytes(data)
    tree_file(repo, tree_id).parent.mkdir(parents=True, exist_ok=True)
    tree_file(repo, tree_id).write_bytes(data)
    write_pointer(repo.root / "evil.loopml", Pointer("evil", "dir", tree_id, 4, 1))
    with pytest.raises(CorruptObject, match="not a valid tree"):
        ld.get("evil", tmp_path / "a" / "b" / "out", repo=repo)
    assert not list(tmp_path.rglob("escape.txt"))


def test_big_chunked_files_read_back_exactly(tmp_path: Path, repo: DataRepo) -> None:
    content = os.urandom(12 * 1024 * 1024)  # above the 8 MiB chunking threshold
    write(repo.root / "big.bin", content)
    track(repo, "big.bin")
    commit(repo.root, "big")
    remove(repo.root / "big.bin")
    with ld.open("big.bin", "HEAD", repo=repo) as f:
        assert f.read(10) == content[:10]
        assert f.read() == content[10:]
    assert ld.get("big.bin", tmp_path / "big.bin", repo=repo).read_bytes() == content


def test_entries_keep_their_executable_bit(tmp_path: Path, repo: DataRepo) -> None:
    script = repo.cache.put_bytes(b"#!/bin/sh\n")
    tree_id = repo.cache.put_tree({"run.sh": TreeEntry(script, 10, 0o755)})
    write_pointer(repo.root / "tools.loopml", Pointer("tools", "dir", tree_id, 10, 1))
    out = ld.get("tools", tmp_path / "tools", repo=repo)
    assert os.access(out / "run.sh", os.X_OK)
