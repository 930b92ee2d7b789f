"""Pins: roots kept in the store itself, honoured by every garbage collection."""

from __future__ import annotations

import pytest

from loopml.core.errors import InvalidArgument
from loopml.objects import ObjectStore, TreeEntry


def test_pinned_contents_and_what_they_reach_survive_gc(store: ObjectStore) -> None:
    kept = store.put_bytes(b"kept")
    tree = store.put_tree({"a.txt": TreeEntry(store.put_bytes(b"in the tree"), 11)})
    loose = store.put_bytes(b"loose")
    store.pin("data-one", [kept])
    store.pin("data-one", [tree])  # pins add up
    assert store.pinned("data-one") == {kept, tree}
    report = store.gc(set(), grace_seconds=0)
    assert report.deleted == 1 and not store.exists(loose)
    assert store.exists(kept) and store.exists(tree)
    assert store.get_tree(tree)["a.txt"].id  # the tree's entry was reached too
    # Its owner collects without its own pin, naming what it still needs.
    assert store.gc({tree}, grace_seconds=0, ignoring_pins=["data-one"]).deleted == 1
    assert not store.exists(kept) and store.exists(tree)
    store.set_pin("data-one", [])
    assert store.pinned("data-one") == set()
    assert store.gc(set(), grace_seconds=0).deleted == 2  # the tree and its entry


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "x" * 200])
def test_bad_pin_names_are_refused(store: ObjectStore, name: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid pin name"):
        store.pin(name, [store.put_bytes(b"x")])


def test_pins_hold_only_object_ids(store: ObjectStore) -> None:
    with pytest.raises(InvalidArgument, match="not an object id"):
        store.pin("data-one", ["../../etc/passwd"])
    assert store.pinned("data-one") == set()
