"""Trees: canonical storage, nesting, and the path-traversal defence."""

from __future__ import annotations

import json
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st
from objects_support import RawStorage, object_key

from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.hashing import hash_bytes
from loopml.objects import ObjectStore, Tree, TreeEntry, validate_tree_path
from loopml.objects._tree import check_entries, decode_tree, encode_tree

A_ID = hash_bytes(b"a")
B_ID = hash_bytes(b"b")


def test_tree_round_trip(store: ObjectStore) -> None:
    a = store.put_bytes(b"a")
    b = store.put_bytes(b"bb")
    entries = {"dir/b.txt": TreeEntry(b, 2, 0o755), "a.txt": TreeEntry(a, 1)}
    tree_id = store.put_tree(entries)
    tree = store.get_tree(tree_id)
    assert isinstance(tree, Tree)
    assert tree.id == tree_id
    assert tree.paths() == ["a.txt", "dir/b.txt"]
    assert tree["dir/b.txt"] == TreeEntry(b, 2, 0o755)
    assert tree["a.txt"].mode == 0o644
    assert dict(tree) == entries
    assert "a.txt" in tree and len(tree) == 2
    with pytest.raises(TypeError):
        tree.entries["new"] = TreeEntry(a, 1)  # type: ignore[index]
    assert store.exists(tree_id)
    assert store.stat(tree_id).chunked is False


def test_equal_trees_share_an_id_whatever_the_insertion_order(
    store: ObjectStore, raw: RawStorage
) -> None:
    first = store.put_tree({"x": TreeEntry(A_ID, 1), "y/z": TreeEntry(B_ID, 1)})
    second = store.put_tree({"y/z": TreeEntry(B_ID, 1), "x": TreeEntry(A_ID, 1)})
    assert first == second
    stored = raw.read(object_key("trees", first))
    assert hash_bytes(stored) == first
    assert json.loads(stored)["entries"]["x"] == {"id": A_ID, "mode": 0o644, "size": 1}
    assert b" " not in stored  # compact, canonical JSON
    assert store.put_tree({"x": TreeEntry(A_ID, 1, 0o600)}) != store.put_tree(
        {"x": TreeEntry(A_ID, 1)}
    )


def test_empty_and_nested_trees(store: ObjectStore) -> None:
    empty = store.put_tree({})
    assert store.get_tree(empty).paths() == []
    inner = store.put_tree({"w.bin": TreeEntry(A_ID, 1)})
    outer = store.put_tree({"inner": TreeEntry(inner, 0)})
    assert store.get_tree(store.get_tree(outer)["inner"].id) == store.get_tree(inner)


def test_get_tree_of_a_plain_blob_is_not_found(store: ObjectStore) -> None:
    blob = store.put_bytes(b'{"entries":{},"version":1}')
    with pytest.raises(NotFound, match="no tree"):
        store.get_tree(blob)


@pytest.mark.parametrize(
    "entry",
    [
        lambda: TreeEntry("not-a-hash", 1),
        lambda: TreeEntry(A_ID, -1),
        lambda: TreeEntry(A_ID, 1, mode=0o10000),
        lambda: TreeEntry(A_ID, True),
        lambda: TreeEntry(A_ID, 1, mode="644"),  # type: ignore[arg-type]
    ],
)
def test_bad_entries_are_rejected(entry: object) -> None:
    with pytest.raises(InvalidArgument):
        entry()  # type: ignore[operator]


def test_put_tree_rejects_bad_input(store: ObjectStore) -> None:
    for entries in (
        {"../escape": TreeEntry(A_ID, 1)},
        {"a": TreeEntry(A_ID, 1), "a/b": TreeEntry(B_ID, 1)},  # file and directory
        {"a": (A_ID, 1)},
        {1: TreeEntry(A_ID, 1)},
        [("a", TreeEntry(A_ID, 1))],
    ):
        with pytest.raises(InvalidArgument):
            store.put_tree(entries)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path",
    [
        *("", "/etc/passwd", "../x", "a/../../x", "a/..", "..", "a\\b", "a//b", "a/"),
        *("a\x00b", ".", "./a", "C:\\Windows"),
    ],
)
def test_unsafe_paths_are_rejected_with_a_reason(path: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid tree path"):
        validate_tree_path(path)


# -- properties ---------------------------------------------------------------

segment_chars = st.characters(codec="utf-8", exclude_characters="/\\\x00")
safe_segments = st.text(segment_chars, min_size=1, max_size=12).filter(
    lambda s: s not in {".", ".."}
)
safe_paths = st.lists(safe_segments, min_size=1, max_size=5).map("/".join)


@given(st.text(max_size=40))
def test_accepted_paths_never_escape_the_root(path: str) -> None:
    try:
        validate_tree_path(path)
    except InvalidArgument:
        return
    root = "/srv/root"
    joined = posixpath.normpath(posixpath.join(root, path))
    assert joined.startswith(root + "/")
    assert posixpath.relpath(joined, root) == path
    assert "\\" not in path and "\x00" not in path


@given(safe_paths)
def test_safe_paths_are_accepted(path: str) -> None:
    assert validate_tree_path(path) == path


@given(
    st.lists(safe_segments, max_size=3),
    st.sampled_from(["..", "", ".", "a\\b", "x\x00y", "\\"]),
    st.lists(safe_segments, max_size=3),
    st.booleans(),
)
def test_any_unsafe_segment_is_rejected(
    before: list[str], bad: str, after: list[str], absolute: bool
) -> None:
    path = "/".join([*before, bad, *after])
    if absolute:
        path = "/" + path
    with pytest.raises(InvalidArgument):
        validate_tree_path(path)


@given(st.dictionaries(safe_paths, st.sampled_from([A_ID, B_ID]), max_size=8))
def test_encoding_round_trips_and_is_canonical(mapping: dict[str, str]) -> None:
    entries = {path: TreeEntry(object_id, 1) for path, object_id in mapping.items()}
    try:
        checked = check_entries(entries)
    except InvalidArgument as exc:
        assert "both a file and a directory" in str(exc)
        return
    data = encode_tree(checked)
    tree = decode_tree(hash_bytes(data), data, "memory")
    assert dict(tree) == entries
    assert encode_tree(check_entries(dict(reversed(list(entries.items()))))) == data
