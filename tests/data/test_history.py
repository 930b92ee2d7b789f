"""``log``: the committed versions of a tracked path, from a real git history."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_git_support import commit, data_repo, remove, track, write

from loopml.core.errors import InvalidArgument, NotFound
from loopml.data import log
from loopml.data._pointer import pointer_file_for
from loopml.data._repo import DataRepo


@pytest.fixture
def repo(tmp_path: Path) -> DataRepo:
    return data_repo(tmp_path / "repo")


def test_versions_newest_first_including_a_deletion_and_a_comeback(repo: DataRepo) -> None:
    data = repo.root / "data" / "train.csv"
    write(data, "x\n1\n")
    (v1,) = track(repo, "data/train.csv")
    c1 = commit(repo.root, "first data")
    write(repo.root / "unrelated.txt", "noise")
    commit(repo.root, "unrelated")
    write(data, "x\n1\n2\n")
    (v2,) = track(repo, "data/train.csv")
    c2 = commit(repo.root, "more rows")
    pointer_file_for(data).unlink()
    c3 = commit(repo.root, "stop tracking")
    write(data, "x\n3\n")
    (v4,) = track(repo, "data/train.csv")
    c4 = commit(repo.root, "track again")

    versions = log(repo, data)
    assert [v.commit.sha for v in versions] == [c4, c3, c2, c1]
    assert [v.pointer for v in versions] == [v4, None, v2, v1]
    assert [v.commit.subject for v in versions] == [
        "track again",
        "stop tracking",
        "more rows",
        "first data",
    ]
    assert versions[2].pointer is not None and versions[2].pointer.size == len("x\n1\n2\n")
    assert versions[0].commit.author == "Ada Lovelace"
    # The pointer file stands for its data path.
    assert log(repo, pointer_file_for(data)) == versions


def test_a_tracked_folder_has_versions(repo: DataRepo) -> None:
    write(repo.root / "images" / "a.png", b"a")
    (v1,) = track(repo, "images")
    commit(repo.root, "images v1")
    write(repo.root / "images" / "b.png", b"b")
    (v2,) = track(repo, "images")
    commit(repo.root, "images v2")
    versions = log(repo, repo.root / "images")
    assert [v.pointer for v in versions] == [v2, v1]
    assert versions[0].pointer is not None and versions[0].pointer.files == 2


def test_paths_without_history_get_a_hint(repo: DataRepo) -> None:
    with pytest.raises(NotFound, match=r"nothing at never.csv is tracked"):
        log(repo, repo.root / "never.csv")
    write(repo.root / "plain.csv", "a\n")
    with pytest.raises(NotFound, match=r"loopml data add plain.csv"):
        log(repo, repo.root / "plain.csv")
    write(repo.root / "new.csv", "a\n")
    track(repo, "new.csv")
    with pytest.raises(NotFound, match=r"git add new.csv.loopml && git commit"):
        log(repo, repo.root / "new.csv")
    write(repo.root / "images" / "a.png", b"a")
    track(repo, "images")
    commit(repo.root, "images")
    with pytest.raises(NotFound, match=r"inside the tracked folder images.*data log images"):
        log(repo, repo.root / "images" / "a.png")


def test_a_nonsense_pointer_in_history_names_the_commit(repo: DataRepo) -> None:
    write(repo.root / "d.csv", "a\n")
    track(repo, "d.csv")
    commit(repo.root, "good")
    remove(repo.root / "d.csv.loopml")
    write(repo.root / "d.csv.loopml", "format: 1\npath: d.csv\nkind: blob\n")
    bad = commit(repo.root, "hand edit")
    with pytest.raises(InvalidArgument) as caught:
        log(repo, repo.root / "d.csv")
    assert f"d.csv.loopml at commit {bad[:12]}" in caught.value.message


def test_bad_paths_and_repositories_outside_git(tmp_path: Path, repo: DataRepo) -> None:
    with pytest.raises(InvalidArgument, match="outside the data repository"):
        log(repo, tmp_path / "elsewhere.csv")
    with pytest.raises(InvalidArgument, match="outside the data repository"):
        log(repo, repo.root / ".." / "x.csv")
    plain = DataRepo.init(tmp_path)
    with pytest.raises(InvalidArgument, match="not in a git repository"):
        log(plain, tmp_path / "x.csv")
