"""``status``: what changed in the workspace against the pointer files, without re-hashing.

Each tracked path is compared with the content its pointer names: files are
listed with ``os.scandir`` and their ``(inode, mtime_ns, size)`` matched
against the stat index (read in one query); only files whose stat changed
but whose size did not are hashed (in a thread pool), and what they turn
out to contain is written back to the index in one transaction, so the next
status is fast again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from loopml.core.errors import InvalidArgument, NotFound
from loopml.data._index import StatEntry, StatRow, vouched_id
from loopml.data._pointer import (
    POINTER_SUFFIX,
    Pointer,
    data_path_for,
    pointer_file_for,
    read_pointer,
)
from loopml.data._presence import missing_from_cache
from loopml.data._repo import DataRepo
from loopml.data._scan import ScannedFile, hash_files, scanned, walk_stats

State = Literal["unchanged", "modified", "missing", "not in cache"]


@dataclass(frozen=True)
class PointerStatus:
    """How one tracked path differs from its pointer (file paths relative to the data path).

    For a tracked single file the one relative path is ``""``.
    """

    pointer_file: Path
    path: str
    """The data path, relative to the repository root."""
    pointer: Pointer
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    missing_data: bool = False
    """The data path does not exist at all (``checkout`` restores it)."""
    missing_cache: tuple[str, ...] = ()
    """Object ids the pointer needs that the cache lacks (``fetch`` or ``pull`` brings them)."""

    @property
    def changed(self) -> bool:
        """Whether the workspace differs from the pointer."""
        return bool(self.added or self.modified or self.deleted or self.missing_data)

    @property
    def state(self) -> State:
        """One word for the path: missing, modified, not in cache, or unchanged."""
        if self.missing_data:
            return "missing"
        if self.changed:
            return "modified"
        if self.missing_cache:
            return "not in cache"
        return "unchanged"


@dataclass(frozen=True)
class DataStatus:
    """The status of every tracked path that was asked about."""

    entries: tuple[PointerStatus, ...] = field(default_factory=tuple)

    @property
    def clean(self) -> bool:
        """True when every tracked path matches its pointer and its content is cached."""
        return all(e.state == "unchanged" for e in self.entries)

    def summary_lines(self, shown: int = 20) -> list[str]:
        """The status as plain text lines for people (at most ``shown`` files per list)."""
        if not self.entries:
            return ["Nothing is tracked yet: track data with `loopml data add PATH`."]
        if self.clean:
            return [f"Data is up to date ({len(self.entries)} tracked paths)."]
        lines: list[str] = []
        for entry in self.entries:
            if entry.state == "unchanged":
                continue
            if entry.missing_data:
                lines.append(f"{entry.path}: missing (restore it with `loopml data checkout`)")
                continue
            lines.append(f"{entry.path}: {entry.state}")
            for label, names in (
                ("modified", entry.modified),
                ("added", entry.added),
                ("deleted", entry.deleted),
            ):
                lines += [
                    f"    {label}: {entry.path}/{name}" if name else f"    {label}"
                    for name in names[:shown]
                ]
                if len(names) > shown:
                    lines.append(f"    ... and {len(names) - shown} more {label}")
            if entry.missing_cache:
                lines.append(
                    f"    {len(entry.missing_cache)} objects not in the cache "
                    "(get them with `loopml data fetch`)"
                )
        return lines


@dataclass
class Comparison:
    """Workspace files of one data path against the expected ``rel -> (id, size)``."""

    current: dict[str, str] = field(default_factory=dict)
    """Content id of every workspace file whose content is known (unchanged or hashed)."""
    names: set[str] = field(default_factory=set)
    """Every file in the workspace (relative paths)."""
    unknown: list[ScannedFile] = field(default_factory=list)
    """Files whose content was not needed to classify them (added, or resized): not hashed."""
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refresh: list[StatRow] = field(default_factory=list)

    @property
    def local_changes(self) -> list[str]:
        """Files whose bytes exist only in the workspace (added or modified)."""
        return sorted(self.added + self.modified)


def expected_files(repo: DataRepo, pointer: Pointer) -> dict[str, tuple[str, int]] | None:
    """``rel -> (id, size)`` the pointer names; None if its tree is in neither cache.

    Trees read once are remembered in the state database (they never change).
    """
    if pointer.kind == "file":
        return {"": (pointer.id, pointer.size)}
    files = repo.index.cached_tree(pointer.id)
    if files is not None:
        return files
    try:
        tree = repo.cache.get_tree(pointer.id)
    except NotFound:
        return None
    files = {path: (entry.id, entry.size) for path, entry in tree.entries.items()}
    repo.index.cache_tree(pointer.id, files)
    return files


def compare(
    rel: str,
    data_path: Path,
    expected: Mapping[str, tuple[str, int]],
    known: Mapping[str, StatEntry],
) -> Comparison:
    """Compare the files at ``data_path`` with ``expected``, hashing only doubtful ones.

    The hot loop of ``status``: one ``stat`` and a few dict lookups per
    unchanged file, no object built for it.
    """
    result = Comparison()
    if not data_path.exists():
        result.deleted = sorted(expected)
        return result
    _kind, stats = walk_stats(data_path)
    prefix = rel + "/"
    names = result.names
    current = result.current
    doubtful: list[ScannedFile] = []
    for name, path, st in stats:
        names.add(name)
        want = expected.get(name)
        if want is None:
            result.added.append(name)
            result.unknown.append(scanned(path, name, st))
            continue
        entry = known.get(prefix + name if name else rel)
        object_id = vouched_id(entry, st.st_ino, st.st_mtime_ns, st.st_size)
        if object_id is not None:
            current[name] = object_id
            if object_id != want[0]:
                result.modified.append(name)
        elif st.st_size != want[1]:
            result.modified.append(name)
            result.unknown.append(scanned(path, name, st))
        else:
            doubtful.append(scanned(path, name, st))
    for file, object_id in zip(doubtful, hash_files(doubtful), strict=True):
        current[file.rel] = object_id
        key = prefix + file.rel if file.rel else rel
        result.refresh.append((key, file.inode, file.mtime_ns, file.size, object_id))
        if object_id != expected[file.rel][0]:
            result.modified.append(file.rel)
    result.deleted = sorted(set(expected) - names)
    result.added.sort()
    result.modified.sort()
    return result


def pointer_targets(repo: DataRepo, targets: Sequence[Path] | None) -> list[Path]:
    """The pointer files ``targets`` name (data paths, pointer files or folders holding them).

    Every pointer file of the repository when ``targets`` is None.
    NotFound for a target that is not tracked.
    """
    everything = repo.pointer_files()
    if targets is None:
        return everything
    chosen: list[Path] = []
    for target in targets:
        if Path(os.path.realpath(target)) == repo.root:
            chosen.extend(everything)
            continue
        rel = repo.relpath(target)
        path = repo.root / rel
        pointer_file = path if rel.endswith(POINTER_SUFFIX) else pointer_file_for(path)
        if pointer_file.is_file():
            chosen.append(pointer_file)
            continue
        inside = [p for p in everything if p.is_relative_to(path)] if path.is_dir() else []
        if not inside:
            raise NotFound(f"{target} is not tracked; track it with `loopml data add {target}`")
        chosen.extend(inside)
    return sorted(set(chosen))


def status(repo: DataRepo, targets: Sequence[Path] | None = None) -> DataStatus:
    """Compare every tracked path (or those ``targets`` name) with its pointer.

    InvalidArgument naming the file and line for a malformed pointer file.
    """
    if isinstance(targets, str | Path):
        raise InvalidArgument("status takes a list of paths")
    pointer_files = pointer_targets(repo, targets)
    known = repo.index.load() if pointer_files else {}
    entries: list[PointerStatus] = []
    refresh: list[StatRow] = []
    for pointer_file in pointer_files:
        pointer = read_pointer(pointer_file)
        data_path = data_path_for(pointer_file)
        rel = repo.relpath(data_path)
        expected = expected_files(repo, pointer)
        if expected is None:
            entries.append(PointerStatus(pointer_file, rel, pointer, missing_cache=(pointer.id,)))
            continue
        result = compare(rel, data_path, expected, known)
        refresh += result.refresh
        needed = {oid for oid, _ in expected.values()}
        if pointer.kind == "dir":
            needed.add(pointer.id)
        missing = missing_from_cache(repo, rel, pointer.id, needed)
        entries.append(
            PointerStatus(
                pointer_file,
                rel,
                pointer,
                added=tuple(result.added),
                modified=tuple(result.modified),
                deleted=tuple(result.deleted),
                missing_data=not os.path.lexists(data_path),
                missing_cache=tuple(missing),
            )
        )
    if refresh:
        repo.index.record(refresh)
    return DataStatus(tuple(entries))
