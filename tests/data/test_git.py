"""Reading pointer files from real git history: revisions, batched reads, clear errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from data_git_support import commit, data_repo, git, git_repo, track, write

from loopml.core.errors import InvalidArgument
from loopml.data._git import (
    commits_touching,
    git_toplevel,
    has_commits,
    pointers_at,
    pointers_in_history,
    read_at,
    read_blobs,
    resolve_rev,
)
from loopml.data._pointer import Pointer, format_pointer, write_pointer
from loopml.data._repo import DataRepo

ID_A = "a" * 64
ID_B = "b" * 64


def test_toplevel_inside_and_outside_a_work_tree(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "work")
    (root / "sub").mkdir()
    assert git_toplevel(root / "sub") == root
    assert git_toplevel(root / "sub" / "missing.txt") == root
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_toplevel(plain) is None


def test_revisions_resolve_to_full_shas_and_unknown_ones_are_explained(tmp_path: Path) -> None:
    repo = data_repo(tmp_path / "r")
    head = git(repo.root, "rev-parse", "HEAD").strip()
    git(repo.root, "tag", "v1")
    assert resolve_rev(repo.root, "HEAD") == head
    assert resolve_rev(repo.root, "v1") == head
    assert resolve_rev(repo.root, head[:9]) == head
    with pytest.raises(InvalidArgument, match=r"unknown git revision 'abc': check `git log`"):
        resolve_rev(repo.root, "abc")
    for bad in ("", "  ", "--all", "-n1", "a\x00b"):
        with pytest.raises(InvalidArgument, match="invalid git revision"):
            resolve_rev(repo.root, bad)


def test_a_repository_without_commits_says_so(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "fresh")
    assert not has_commits(root)
    with pytest.raises(InvalidArgument, match="no commits yet"):
        resolve_rev(root, "HEAD")
    assert commits_touching(root, "data.loopml") == []


def test_outside_git_every_call_says_to_run_git_init(tmp_path: Path) -> None:
    repo = DataRepo.init(tmp_path)
    for call in (
        lambda: pointers_at(repo, "HEAD"),
        lambda: read_at(tmp_path, "HEAD", "x"),
        lambda: commits_touching(tmp_path, "x.loopml"),
    ):
        with pytest.raises(InvalidArgument, match=r"not in a git repository.*`git init`"):
            call()


def test_read_at_returns_old_content_none_when_absent_and_refuses_folders(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "r")
    write(root / "notes" / "a.txt", "one")
    first = commit(root, "one")
    write(root / "notes" / "a.txt", "two")
    commit(root, "two")
    assert read_at(root, first, "notes/a.txt") == b"one"
    assert read_at(root, "HEAD", "notes/a.txt") == b"two"
    assert read_at(root, "HEAD", "notes/missing.txt") is None
    with pytest.raises(InvalidArgument, match="notes is a tree, not a file"):
        read_at(root, "HEAD", "notes")
    for bad in ("/etc/passwd", "../x", "a//b", "", "a/./b"):
        with pytest.raises(InvalidArgument, match="invalid repository path"):
            read_at(root, "HEAD", bad)


def test_pointers_at_each_revision(tmp_path: Path) -> None:
    repo = data_repo(tmp_path / "r")
    write(repo.root / "train.csv", "x,y\n1,2\n")
    write(repo.root / "images" / "cat.png", b"\x89PNG cat")
    (p_csv, p_images) = track(repo, "train.csv", "images")
    first = commit(repo.root, "data v1")
    write(repo.root / "train.csv", "x,y\n1,2\n3,4\n")
    write(repo.root / "sub" / "more.bin", b"more")
    (p_csv2, p_more) = track(repo, "train.csv", "sub/more.bin")
    commit(repo.root, "data v2")

    assert pointers_at(repo, first) == {
        repo.root / "train.csv.loopml": p_csv,
        repo.root / "images.loopml": p_images,
    }
    assert pointers_at(repo, "HEAD") == {
        repo.root / "train.csv.loopml": p_csv2,
        repo.root / "images.loopml": p_images,
        repo.root / "sub" / "more.bin.loopml": p_more,
    }
    assert p_csv2.id != p_csv.id
    # Targets keep the tracked path itself, paths inside it, and folders holding it.
    assert set(pointers_at(repo, "HEAD", targets=["images/cat.png"])) == {
        repo.root / "images.loopml"
    }
    assert set(pointers_at(repo, "HEAD", targets=["sub"])) == {repo.root / "sub/more.bin.loopml"}
    assert pointers_at(repo, "HEAD", targets=["nothing"]) == {}


def test_many_pointers_are_read_in_one_batch(tmp_path: Path) -> None:
    repo = data_repo(tmp_path / "r")
    expected = {}
    for n in range(300):
        pointer = Pointer(path=f"f{n}.bin", kind="file", id=f"{n:064x}", size=n, files=1)
        pointer_file = repo.root / "many" / f"f{n}.bin.loopml"
        pointer_file.parent.mkdir(exist_ok=True)
        write_pointer(pointer_file, pointer)
        expected[pointer_file] = pointer
    commit(repo.root, "many")
    assert pointers_at(repo, "HEAD") == expected


def test_odd_file_names_and_symlinks(tmp_path: Path) -> None:
    repo = data_repo(tmp_path / "r")
    name = "données d'été.csv"
    pointer = Pointer(path=name, kind="file", id=ID_A, size=3, files=1)
    write_pointer(repo.root / f"{name}.loopml", pointer)
    (repo.root / "link.loopml").symlink_to(f"{name}.loopml")  # a symlink is not a pointer
    write(repo.root / ".loopml" / "x.loopml", "not a pointer")  # loopml's own folder is skipped
    commit(repo.root, "odd")
    assert pointers_at(repo, "HEAD") == {repo.root / f"{name}.loopml": pointer}
    assert [c.subject for c in commits_touching(repo.root, f"{name}.loopml")] == ["odd"]


def test_a_nonsense_pointer_names_the_commit_and_the_file(tmp_path: Path) -> None:
    repo = data_repo(tmp_path / "r")
    write(repo.root / "data" / "x.csv.loopml", "format: 1\npath: x.csv\nkind: file\nid: zzz\n")
    sha = commit(repo.root, "broken by hand")
    with pytest.raises(InvalidArgument) as caught:
        pointers_at(repo, "HEAD")
    assert f"data/x.csv.loopml at commit {sha[:12]}" in caught.value.message
    assert "invalid pointer file" in caught.value.message
    # A pointer left out by targets is not even parsed.
    assert pointers_at(repo, "HEAD", targets=["other"]) == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (format_pointer(Pointer("other.csv", "file", ID_A, 1, 1)), "names path 'other.csv'"),
        (b"\xff\xfe not text", "not UTF-8"),
        ("x" * 70_000, "larger than"),
        ("", "missing format"),
    ],
)
def test_pointer_problems_at_a_commit(tmp_path: Path, content: str | bytes, problem: str) -> None:
    repo = data_repo(tmp_path / "r")
    write(repo.root / "x.csv.loopml", content)
    sha = commit(repo.root, "bad pointer")
    with pytest.raises(InvalidArgument, match=problem) as caught:
        pointers_at(repo, sha)
    assert f"x.csv.loopml at commit {sha[:12]}" in caught.value.message


def test_commits_touching_lists_newest_first_with_author_and_subject(tmp_path: Path) -> None:
    repo = data_repo(tmp_path / "r")
    pointer_file = repo.root / "d.bin.loopml"
    write_pointer(pointer_file, Pointer("d.bin", "file", ID_A, 1, 1))
    first = commit(repo.root, "add d")
    write(repo.root / "unrelated.txt", "x")
    commit(repo.root, "unrelated")
    write_pointer(pointer_file, Pointer("d.bin", "file", ID_B, 2, 1))
    second = commit(repo.root, "change d\n\nlong body")
    commits = commits_touching(repo.root, "d.bin.loopml")
    assert [c.sha for c in commits] == [second, first]
    assert commits[0].subject == "change d"
    assert commits[0].author == "Ada Lovelace"
    assert commits[0].email == "ada@example.com"
    assert isinstance(commits[0].date, datetime) and commits[0].date.tzinfo is not None
    assert commits[0].short == second[:12]
    assert commits_touching(repo.root, "never.loopml") == []
    # Pathspec magic is not interpreted: a pattern matches nothing.
    assert commits_touching(repo.root, "*.loopml") == []


def test_a_data_repository_below_the_git_root_sees_paths_relative_to_itself(
    tmp_path: Path,
) -> None:
    root = git_repo(tmp_path / "mono")
    (root / "project").mkdir()
    repo = DataRepo.init(root / "project")
    pointer = Pointer("d.bin", "file", ID_A, 1, 1)
    write_pointer(repo.root / "d.bin.loopml", pointer)
    write_pointer(root / "elsewhere.bin.loopml", Pointer("elsewhere.bin", "file", ID_B, 1, 1))
    sha = commit(root, "mono")
    assert pointers_at(repo, "HEAD") == {repo.root / "d.bin.loopml": pointer}
    assert [c.sha for c in commits_touching(repo.root, "d.bin.loopml")] == [sha]
    assert read_blobs(repo.root, [(sha, "d.bin.loopml"), (sha, "nope")])[1] is None


def test_every_pointer_in_history_on_every_ref_in_two_processes(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "mono")
    (root / "project").mkdir()
    repo = DataRepo.init(root / "project")
    assert pointers_in_history(repo) == []  # no commits yet
    p1 = Pointer("d.bin", "file", ID_A, 1, 1)
    write_pointer(repo.root / "d.bin.loopml", p1)
    write_pointer(root / "outside.bin.loopml", Pointer("outside.bin", "file", ID_B, 1, 1))
    commit(root, "one")
    git(root, "checkout", "-q", "-b", "side")
    p2 = Pointer("d.bin", "file", ID_B, 2, 1)
    write_pointer(repo.root / "d.bin.loopml", p2)
    commit(root, "on a branch")
    git(root, "checkout", "-q", "main")
    p3 = Pointer("e", "dir", "c" * 64, 3, 2)
    (repo.root / "sub").mkdir()
    write_pointer(repo.root / "sub" / "e.loopml", p3)
    commit(root, "two")
    found = sorted(pointers_in_history(repo), key=lambda item: item[1].id)
    assert found == [("d.bin.loopml", p1), ("d.bin.loopml", p2), ("sub/e.loopml", p3)]


def test_an_invalid_pointer_anywhere_in_history_names_the_file(tmp_path: Path) -> None:
    repo = data_repo(tmp_path / "r")
    write(repo.root / "bad.csv.loopml", "format: 1\n")
    commit(repo.root, "bad")
    git(repo.root, "rm", "-q", "bad.csv.loopml")
    commit(repo.root, "gone from HEAD but not from history")
    with pytest.raises(InvalidArgument, match=r"bad\.csv\.loopml \(git blob .*git log --all"):
        pointers_in_history(repo)
