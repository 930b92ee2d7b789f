"""``loopml data diff [A [B]]``: files added, removed and modified between two data versions.

A side is a git revision's committed pointer files, or the workspace's
pointer files (what the next commit will record; data edited but not yet
``add``-ed is what ``status`` reports). With no revisions, HEAD is compared
with the workspace, as ``dvc diff`` does. A tracked folder is expanded into
its files through its tree, read from the cache (or the default remote,
copying only the tree object); a path whose pointer did not change costs
nothing. For CSV and Parquet files the change also says which columns were
added, removed or retyped and how the row count moved (see ``_tabular``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from loopml.core.errors import LoopmlError, NotFound
from loopml.data._api import load_tree, open_object
from loopml.data._git import has_commits, pointers_at, resolve_rev, selects
from loopml.data._pointer import POINTER_SUFFIX, Pointer, read_pointer
from loopml.data._repo import DataRepo
from loopml.data._tabular import (
    TableChange,
    TableFormat,
    TableSummary,
    compare_tables,
    describe_table,
    table_format,
)

WORKSPACE = "workspace"


@dataclass(frozen=True)
class FileChange:
    """One file that differs; the side where it is absent has None id and size."""

    path: str
    old_id: str | None
    old_size: int | None
    new_id: str | None
    new_size: int | None
    table: TableChange | None = None
    """Schema and row-count change of a CSV or Parquet file (when summarised)."""
    table_error: str | None = None
    """Why a CSV or Parquet file could not be summarised (the file change still stands)."""

    @property
    def status(self) -> Literal["added", "removed", "modified"]:
        if self.old_id is None:
            return "added"
        return "removed" if self.new_id is None else "modified"


@dataclass(frozen=True)
class DataDiff:
    """The files that differ from side ``a`` to side ``b``, each list sorted by path."""

    a: str
    b: str
    a_commit: str | None
    """The commit of side a; None for a repository with no commits yet."""
    b_commit: str | None
    """The commit of side b; None for the workspace."""
    added: tuple[FileChange, ...]
    removed: tuple[FileChange, ...]
    modified: tuple[FileChange, ...]

    @property
    def changes(self) -> list[FileChange]:
        """Every change, sorted by path."""
        return sorted((*self.added, *self.removed, *self.modified), key=lambda c: c.path)

    @property
    def empty(self) -> bool:
        """Whether both sides hold the same data."""
        return not (self.added or self.removed or self.modified)


@dataclass(frozen=True)
class _Side:
    label: str
    commit: str | None
    pointers: Mapping[str, Pointer]  # data relpath -> pointer


def diff(
    repo: DataRepo,
    a: str | None = None,
    b: str | None = None,
    targets: Sequence[Path | str] | None = None,
    *,
    tables: bool = True,
) -> DataDiff:
    """Compare the data at git revision ``a`` (default HEAD) with ``b`` (default: the workspace).

    ``targets`` (paths relative to the current folder) limits the comparison
    to those tracked paths, folders containing them, or paths inside tracked
    folders. ``tables=False`` skips the CSV/Parquet summaries (they read the
    changed tables once each, streaming). InvalidArgument for an unknown
    revision, a folder outside git, or a pointer that is nonsense at one of
    the sides; NotFound for a target tracked on neither side, or a folder's
    tree in neither the cache nor the default remote (``loopml data fetch``).
    """
    wanted = None if targets is None else [_target(repo, t) for t in targets]
    old = _side(repo, a if a is not None else "HEAD", wanted, optional_head=a is None)
    new = _side(repo, b, wanted, optional_head=False)
    for target in wanted or ():
        if not any(selects(p, [target]) for p in (*old.pointers, *new.pointers)):
            raise NotFound(
                f"{target} is not tracked at {old.label} nor at {new.label}; check the path "
                "(`loopml data status` lists tracked paths)"
            )
    changes = _changed_files(repo, old, new, wanted)
    if tables:
        changes = _with_tables(repo, changes, old, new)
    return DataDiff(
        a=old.label,
        b=new.label,
        a_commit=old.commit,
        b_commit=new.commit,
        added=tuple(c for c in changes if c.status == "added"),
        removed=tuple(c for c in changes if c.status == "removed"),
        modified=tuple(c for c in changes if c.status == "modified"),
    )


def _target(repo: DataRepo, target: Path | str) -> str:
    relpath = repo.relpath(target)
    if relpath.endswith(POINTER_SUFFIX) and len(relpath.rpartition("/")[2]) > len(POINTER_SUFFIX):
        return relpath[: -len(POINTER_SUFFIX)]
    return relpath


def _side(
    repo: DataRepo, rev: str | None, wanted: list[str] | None, *, optional_head: bool
) -> _Side:
    """The pointers of one side, keyed by data path; an empty side for HEAD of a new repository."""
    if rev is None:
        pointers = {}
        for pointer_file in repo.pointer_files():
            data_relpath = repo.relpath(pointer_file)[: -len(POINTER_SUFFIX)]
            if selects(data_relpath, wanted):
                pointers[data_relpath] = read_pointer(pointer_file)
        return _Side(WORKSPACE, None, pointers)
    if optional_head and not has_commits(repo.root):
        return _Side(rev, None, {})
    sha = resolve_rev(repo.root, rev)
    found = pointers_at(repo, sha, targets=wanted)
    by_data = {repo.relpath(p)[: -len(POINTER_SUFFIX)]: ptr for p, ptr in found.items()}
    return _Side(rev, sha, by_data)


def _where(side: _Side) -> str:
    if side.commit is None:
        return f"in the {WORKSPACE}" if side.label == WORKSPACE else f"at {side.label}"
    return f"at {side.label} ({side.commit[:12]})"


def _files(
    repo: DataRepo, data_relpath: str, pointer: Pointer, side: _Side
) -> dict[str, tuple[str, int]]:
    """The files a pointer names: repository path -> (content id, size)."""
    if pointer.kind == "file":
        return {data_relpath: (pointer.id, pointer.size)}
    tree = load_tree(repo, pointer.id, what=f"the folder {data_relpath} {_where(side)}")
    return {f"{data_relpath}/{name}": (e.id, e.size) for name, e in tree.entries.items()}


def _inside(path: str, wanted: Iterable[str] | None) -> bool:
    return wanted is None or any(path == t or path.startswith(t + "/") for t in wanted)


def _changed_files(
    repo: DataRepo, old: _Side, new: _Side, wanted: list[str] | None
) -> list[FileChange]:
    before: dict[str, tuple[str, int]] = {}
    after: dict[str, tuple[str, int]] = {}
    for data_relpath in sorted({*old.pointers, *new.pointers}):
        p_old, p_new = old.pointers.get(data_relpath), new.pointers.get(data_relpath)
        if p_old == p_new:
            continue  # same content, kind and name: nothing inside can differ
        if p_old is not None:
            before.update(_files(repo, data_relpath, p_old, old))
        if p_new is not None:
            after.update(_files(repo, data_relpath, p_new, new))
    changes: list[FileChange] = []
    for path in sorted({*before, *after}):
        if not _inside(path, wanted):
            continue
        was, now = before.get(path), after.get(path)
        if was == now:
            continue
        changes.append(
            FileChange(
                path=path,
                old_id=was[0] if was else None,
                old_size=was[1] if was else None,
                new_id=now[0] if now else None,
                new_size=now[1] if now else None,
            )
        )
    return changes


def _with_tables(
    repo: DataRepo, changes: list[FileChange], old: _Side, new: _Side
) -> list[FileChange]:
    """Attach a table change to each changed CSV/Parquet file; each content is read once."""
    summaries: dict[tuple[str, TableFormat], TableSummary | str] = {}

    def summary(
        object_id: str | None, fmt: TableFormat, path: str, side: _Side
    ) -> TableSummary | str | None:
        if object_id is None:
            return None
        key = (object_id, fmt)
        if key not in summaries:
            what = f"{path} {_where(side)}"
            try:
                summaries[key] = describe_table(
                    lambda: open_object(repo, object_id, what=what), fmt, name=what
                )
            except LoopmlError as exc:
                summaries[key] = exc.message
        return summaries[key]

    result: list[FileChange] = []
    for change in changes:
        fmt = table_format(change.path)
        if fmt is None:
            result.append(change)
            continue
        was = summary(change.old_id, fmt, change.path, old)
        now = summary(change.new_id, fmt, change.path, new)
        errors = [s for s in (was, now) if isinstance(s, str)]
        if errors:
            result.append(replace(change, table_error="; ".join(errors)))
        else:
            assert not isinstance(was, str) and not isinstance(now, str)
            result.append(replace(change, table=compare_tables(was, now)))
    return result
