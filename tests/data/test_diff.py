"""``diff``: files and tables that changed between git revisions and the workspace."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from data_git_support import (
    blob_file,
    commit,
    data_repo,
    git_repo,
    remove,
    track,
    tree_file,
    write,
)

from loopml.core.errors import InvalidArgument, NotFound
from loopml.data import diff
from loopml.data._config import Remote, RepoConfig
from loopml.data._repo import DataRepo
from loopml.data._tabular import TypeChange
from loopml.objects import open_object_store


@pytest.fixture
def repo(tmp_path: Path) -> DataRepo:
    return data_repo(tmp_path / "repo")


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _paths(changes: tuple[object, ...]) -> list[str]:
    return [c.path for c in changes]  # type: ignore[attr-defined]


def test_head_against_the_workspace_by_default(repo: DataRepo) -> None:
    write(repo.root / "train.csv", "id,x\n1,2\n")
    write(repo.root / "gone.bin", b"bye")
    write(repo.root / "same.bin", b"same")
    track(repo, "train.csv", "gone.bin", "same.bin")
    commit(repo.root, "v1")
    assert diff(repo).empty

    write(repo.root / "train.csv", "id,x,y\n1,2.5,a\n3,4,b\n")
    write(repo.root / "new.bin", b"hello")
    track(repo, "train.csv", "new.bin")
    remove(repo.root / "gone.bin.loopml")
    result = diff(repo)
    assert (result.a, result.b, result.b_commit) == ("HEAD", "workspace", None)
    assert _paths(result.added) == ["new.bin"]
    assert _paths(result.removed) == ["gone.bin"]
    assert _paths(result.modified) == ["train.csv"]
    (added,) = result.added
    assert (added.old_id, added.new_size, added.status) == (None, 5, "added")
    (removed,) = result.removed
    assert (removed.new_id, removed.old_size, removed.status) == (None, 3, "removed")
    (csv,) = result.modified
    assert csv.table is not None
    assert csv.table.columns_added == ("y",)
    assert csv.table.types_changed == (TypeChange("x", "int64", "double"),)
    assert (csv.table.rows_before, csv.table.rows_after) == (1, 2)
    assert [c.path for c in result.changes] == ["gone.bin", "new.bin", "train.csv"]


def test_between_two_revisions_a_folder_expands_to_its_files(repo: DataRepo) -> None:
    images = repo.root / "images"
    for name in ("keep.png", "edit.png", "drop.png"):
        write(images / name, name.encode())
    track(repo, "images")
    first = commit(repo.root, "images v1")
    write(images / "edit.png", b"edited")
    remove(images / "drop.png")
    write(images / "sub" / "new.png", b"new")
    track(repo, "images")
    second = commit(repo.root, "images v2")

    result = diff(repo, first, second)
    assert (result.a_commit, result.b_commit) == (first, second)
    assert _paths(result.added) == ["images/sub/new.png"]
    assert _paths(result.removed) == ["images/drop.png"]
    assert _paths(result.modified) == ["images/edit.png"]
    (edit,) = result.modified
    assert (edit.old_size, edit.new_size) == (len("edit.png"), len("edited"))
    back = diff(repo, second, first)
    assert _paths(back.added) == ["images/drop.png"]
    assert _paths(back.removed) == ["images/sub/new.png"]
    assert diff(repo, second).empty  # the workspace pointers equal HEAD's


def test_targets_limit_the_comparison(repo: DataRepo) -> None:
    write(repo.root / "images" / "a" / "1.png", b"1")
    write(repo.root / "images" / "b" / "2.png", b"2")
    write(repo.root / "data" / "t.bin", b"t")
    track(repo, "images", "data/t.bin")
    first = commit(repo.root, "v1")
    write(repo.root / "images" / "a" / "1.png", b"one")
    write(repo.root / "images" / "b" / "2.png", b"two")
    write(repo.root / "data" / "t.bin", b"tee")
    track(repo, "images", "data/t.bin")

    everything = diff(repo, first)
    assert _paths(everything.modified) == ["data/t.bin", "images/a/1.png", "images/b/2.png"]
    inside = diff(repo, first, targets=[repo.root / "images" / "a"])
    assert _paths(inside.modified) == ["images/a/1.png"]
    holder = diff(repo, first, targets=[repo.root / "data"])
    assert _paths(holder.modified) == ["data/t.bin"]
    by_pointer = diff(repo, first, targets=[repo.root / "images.loopml"])
    assert len(by_pointer.modified) == 2
    with pytest.raises(NotFound, match=r"nope is not tracked at HEAD nor at workspace"):
        diff(repo, targets=[repo.root / "nope"])
    with pytest.raises(InvalidArgument, match="outside the data repository"):
        diff(repo, targets=[repo.root.parent / "x"])


def test_parquet_schema_and_row_changes(repo: DataRepo) -> None:
    old = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "v": pa.array([1.0, 2.0, 3.0])})
    write(repo.root / "t.parquet", _parquet(old))
    track(repo, "t.parquet")
    first = commit(repo.root, "v1")
    new = pa.table({"id": pa.array([1, 2], pa.int32()), "label": pa.array(["a", "b"])})
    write(repo.root / "t.parquet", _parquet(new))
    track(repo, "t.parquet")
    second = commit(repo.root, "v2")

    (change,) = diff(repo, first, second).modified
    assert change.table is not None and change.table_error is None
    assert change.table.columns_added == ("label",)
    assert change.table.columns_removed == ("v",)
    assert change.table.types_changed == (TypeChange("id", "int64", "int32"),)
    assert (change.table.rows_before, change.table.rows_after) == (3, 2)
    (plain,) = diff(repo, first, second, tables=False).modified
    assert plain.table is None


def test_added_and_removed_tables_report_one_side(repo: DataRepo) -> None:
    first = commit(repo.root, "empty")
    write(repo.root / "new.csv", "a,b\n1,x\n2,y\n")
    track(repo, "new.csv")
    (added,) = diff(repo, first).added
    assert added.table is not None
    assert (added.table.rows_before, added.table.rows_after) == (None, 2)
    second = commit(repo.root, "with table")
    (removed,) = diff(repo, second, first).removed
    assert removed.table is not None and removed.table.rows_before == 2


def test_an_unreadable_table_keeps_the_file_change(repo: DataRepo) -> None:
    write(repo.root / "t.csv", "a,b\n1,2\n")
    track(repo, "t.csv")
    first = commit(repo.root, "v1")
    write(repo.root / "t.csv", "a,b\n1,2\n3\n")
    track(repo, "t.csv")
    (change,) = diff(repo, first).modified
    assert change.table is None
    assert change.table_error is not None and "t.csv in the workspace" in change.table_error
    assert "not a readable CSV file" in change.table_error


def test_a_missing_tree_without_a_remote_says_to_fetch(repo: DataRepo) -> None:
    write(repo.root / "images" / "a.png", b"a")
    (v1,) = track(repo, "images")
    first = commit(repo.root, "v1")
    write(repo.root / "images" / "a.png", b"b")
    track(repo, "images")
    tree_file(repo, v1.id).unlink()
    with pytest.raises(NotFound) as caught:
        diff(repo, first)
    message = caught.value.message
    assert v1.id in message
    assert f"the folder images at {first} ({first[:12]})" in message
    assert "loopml data fetch" in message


def test_a_missing_tree_comes_from_the_default_remote(tmp_path: Path, repo: DataRepo) -> None:
    write(repo.root / "images" / "a.png", b"a")
    (v1,) = track(repo, "images")
    first = commit(repo.root, "v1")
    write(repo.root / "images" / "a.png", b"b")
    track(repo, "images")
    remote = open_object_store(str(tmp_path / "remote"))
    remote.put_tree(dict(repo.cache.get_tree(v1.id).entries))
    repo.save_config(
        RepoConfig(remotes={"r": Remote("r", str(tmp_path / "remote"))}, default_remote="r")
    )
    tree_file(repo, v1.id).unlink()
    (change,) = diff(repo, first).modified
    assert change.path == "images/a.png"
    assert tree_file(repo, v1.id).is_file()  # kept in the cache for next time


def test_a_table_missing_everywhere_is_reported_not_fatal(repo: DataRepo) -> None:
    write(repo.root / "t.csv", "a\n1\n")
    (v1,) = track(repo, "t.csv")
    first = commit(repo.root, "v1")
    write(repo.root / "t.csv", "a\n1\n2\n")
    track(repo, "t.csv")
    blob_file(repo, v1.id).unlink()
    (change,) = diff(repo, first).modified
    assert change.table is None
    assert change.table_error is not None and "loopml data fetch" in change.table_error


def test_kind_changes_and_a_repository_without_commits(tmp_path: Path) -> None:
    repo = DataRepo.init(git_repo(tmp_path / "fresh"))
    write(repo.root / "d", b"file")
    track(repo, "d")
    result = diff(repo)
    assert (result.a, result.a_commit) == ("HEAD", None)
    assert _paths(result.added) == ["d"]
    first = commit(repo.root, "file")
    remove(repo.root / "d")
    remove(repo.root / "d.loopml")
    write(repo.root / "d" / "inner.bin", b"inner")
    track(repo, "d")
    folder = diff(repo, first)
    assert _paths(folder.removed) == ["d"]
    assert _paths(folder.added) == ["d/inner.bin"]


def test_bad_revisions_and_pointers(repo: DataRepo) -> None:
    with pytest.raises(InvalidArgument, match=r"unknown git revision 'nope': check `git log`"):
        diff(repo, "nope")
    with pytest.raises(InvalidArgument, match="unknown git revision 'nope'"):
        diff(repo, "HEAD", "nope")
    write(repo.root / "x.bin.loopml", "format: 1\npath: x.bin\n")
    sha = commit(repo.root, "broken")
    with pytest.raises(InvalidArgument, match=rf"x.bin.loopml at commit {sha[:12]}"):
        diff(repo, "HEAD", "HEAD~1")
    with pytest.raises(InvalidArgument, match=r"x\.bin\.loopml"):
        diff(repo)  # the workspace pointer is broken too


def test_outside_git(tmp_path: Path) -> None:
    repo = DataRepo.init(tmp_path)
    with pytest.raises(InvalidArgument, match="not in a git repository"):
        diff(repo)
