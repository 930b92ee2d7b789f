"""Trees: relative POSIX paths mapped to object ids, stored canonically.

Tree paths are checked on the way in and on the way out, because a tree is
later materialised on disk: an absolute path, a ``..`` segment, a backslash,
an empty segment or a NUL could write outside the target directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.core.hashing import is_hash

FORMAT_VERSION = 1
MAX_MODE = 0o7777


@dataclass(frozen=True)
class TreeEntry:
    """One file of a tree: the id of its content, its size and its permission bits."""

    id: str
    size: int
    mode: int = 0o644

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not is_hash(self.id):
            raise InvalidArgument(f"tree entry id is not an object id: {self.id!r:.100}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise InvalidArgument(f"tree entry size must be an int >= 0, got {self.size!r}")
        if isinstance(self.mode, bool) or not isinstance(self.mode, int):
            raise InvalidArgument(f"tree entry mode must be an int, got {self.mode!r}")
        if not 0 <= self.mode <= MAX_MODE:
            raise InvalidArgument(f"tree entry mode must be within 0o0..0o7777, got {self.mode:o}")


@dataclass(frozen=True)
class Tree(Mapping[str, TreeEntry]):
    """A stored tree: its id and its entries, read-only and sorted by path."""

    id: str
    entries: Mapping[str, TreeEntry]

    def __getitem__(self, path: str) -> TreeEntry:
        return self.entries[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __hash__(self) -> int:
        return hash(self.id)

    def paths(self) -> list[str]:
        """Every path in the tree, sorted."""
        return list(self.entries)


def validate_tree_path(path: object) -> str:
    """``path`` if it is a safe relative POSIX path; InvalidArgument saying why not."""
    if not isinstance(path, str):
        raise InvalidArgument(f"tree path must be a string, got {type(path).__name__}")
    reason = _unsafe_reason(path)
    if reason:
        raise InvalidArgument(f"invalid tree path {path!r:.200}: {reason}")
    return path


def _unsafe_reason(path: str) -> str | None:
    if not path:
        return "it is empty"
    if "\x00" in path:
        return "it contains a NUL character"
    if "\\" in path:
        return "it contains a backslash (use '/' as the separator)"
    if path.startswith("/"):
        return "it is absolute (tree paths are relative)"
    for segment in path.split("/"):
        if not segment:
            return "it has an empty segment ('//' or a trailing '/')"
        if segment == "..":
            return "it has a '..' segment"
        if segment == ".":
            return "it has a '.' segment"
    return None


def check_entries(entries: Mapping[str, TreeEntry]) -> dict[str, TreeEntry]:
    """Validated entries sorted by path; InvalidArgument for any bad path or entry."""
    if not isinstance(entries, Mapping):
        raise InvalidArgument(f"tree entries must be a mapping, got {type(entries).__name__}")
    checked: dict[str, TreeEntry] = {}
    for path in sorted(entries, key=lambda p: p if isinstance(p, str) else ""):
        entry = entries[path]
        if not isinstance(entry, TreeEntry):
            raise InvalidArgument(f"tree entry for {path!r} must be a TreeEntry")
        checked[validate_tree_path(path)] = entry
    for path in checked:
        # A path cannot be both a file and a directory of other files.
        parent = path.rpartition("/")[0]
        while parent:
            if parent in checked:
                raise InvalidArgument(f"tree path {parent!r} is both a file and a directory")
            parent = parent.rpartition("/")[0]
    return checked


def encode_tree(entries: dict[str, TreeEntry]) -> bytes:
    """Canonical compact JSON (sorted keys), so identical trees share an id."""
    body = {
        "entries": {
            path: {"id": e.id, "mode": e.mode, "size": e.size} for path, e in entries.items()
        },
        "version": FORMAT_VERSION,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode_tree(tree_id: str, data: bytes, location: str) -> Tree:
    """Parse a stored (hash-verified) tree; CorruptObject if it is not a valid tree."""
    try:
        body: Any = json.loads(data)
        if body["version"] != FORMAT_VERSION:
            raise ValueError(f"unknown tree format version {body['version']!r}")
        raw = body["entries"]
        entries = {
            path: TreeEntry(id=e["id"], size=e["size"], mode=e["mode"]) for path, e in raw.items()
        }
        checked = check_entries(entries)
    except (ValueError, TypeError, KeyError, AttributeError, InvalidArgument) as exc:
        raise CorruptObject(
            f"tree {tree_id} at {location} is not a valid tree ({exc}); restore it from "
            "a remote copy"
        ) from exc
    return Tree(id=tree_id, entries=MappingProxyType(checked))
