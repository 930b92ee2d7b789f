"""``checkout``: make the workspace hold the data its pointer files (or a revision's) name.

Before touching a tracked path, its workspace files are compared with the
target (the stat index makes this cheap): a file that would be replaced or
removed while its content is in no cache (edited or created since the last
``add``) exists nowhere else, so checkout refuses unless ``force``. Files already right are left
alone; the rest are linked from the cache (see ``_workspace``).

With ``pointers`` (``checkout REV``) the given pointer files are also
written into the workspace, so that afterwards ``status`` is clean and
``git diff`` shows which pointers the data now follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loopml.core.errors import InvalidArgument, InvalidState
from loopml.data._add import ignore_in_git
from loopml.data._index import StatEntry
from loopml.data._pointer import Pointer, data_path_for, read_pointer, write_pointer
from loopml.data._progress import NO_PROGRESS, Progress
from loopml.data._repo import DataRepo
from loopml.data._scan import hash_files
from loopml.data._status import (
    Comparison,
    compare,
    expected_files,
    pointer_targets,
)
from loopml.data._workspace import materialise, presence_checker

_SHOWN = 5


@dataclass
class CheckoutReport:
    """What checkout did, per tracked path (relative to the repository root)."""

    restored: list[str] = field(default_factory=list)
    """Paths whose workspace content changed."""
    unchanged: list[str] = field(default_factory=list)
    files_placed: int = 0
    files_removed: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)
    """Path -> files (or the path's tree id) the cache lacks: ``fetch`` or ``pull`` them."""

    @property
    def complete(self) -> bool:
        """True when every requested content was in the cache."""
        return not self.missing


def checkout(
    repo: DataRepo,
    targets: Sequence[Path] | None = None,
    *,
    pointers: Mapping[Path, Pointer] | None = None,
    force: bool = False,
    progress: Progress = NO_PROGRESS,
) -> CheckoutReport:
    """Restore tracked paths to what their pointer files (or ``pointers``) name.

    ``pointers`` maps absolute workspace pointer file paths to pointers (as
    :func:`loopml.data._git.pointers_at` returns for a revision); ``targets``
    narrows either set. InvalidState naming the files, before anything is
    changed, if local modifications would be lost and ``force`` is False.
    Content absent from the cache is reported in ``missing``, not raised.
    """
    if isinstance(targets, str | Path):
        raise InvalidArgument("checkout takes a list of paths")
    with repo.lock():
        plan = _plan(repo, targets, pointers)
        known = repo.index.load() if plan else {}
        report = CheckoutReport()
        prepared = [_prepare(repo, pf, pointer, known, force) for pf, pointer in plan]
        for (pointer_file, pointer), (rel, expected, comparison) in zip(
            plan, prepared, strict=True
        ):
            if pointers is not None:
                write_pointer(pointer_file, pointer)
                ignore_in_git(data_path_for(pointer_file))
            if expected is None:
                report.missing[rel] = [pointer.id]
                continue
            if _already_right(expected, comparison):
                report.unchanged.append(rel)
                continue
            done = materialise(
                repo, pointer, repo.root / rel, keep=comparison.current, progress=progress
            )
            repo.index.record(done.rows, replace_prefix=rel)
            report.restored.append(rel)
            report.files_placed += done.placed
            report.files_removed += done.removed
            if done.missing:
                report.missing[rel] = done.missing
    return report


def _plan(
    repo: DataRepo, targets: Sequence[Path] | None, pointers: Mapping[Path, Pointer] | None
) -> list[tuple[Path, Pointer]]:
    if pointers is None:
        return [(pf, read_pointer(pf)) for pf in pointer_targets(repo, targets)]
    chosen = sorted(pointers.items())
    if targets is None:
        return chosen
    wanted = [repo.relpath(t) for t in targets]
    selected = []
    for pointer_file, pointer in chosen:
        rel = repo.relpath(data_path_for(pointer_file))
        if any(rel == w or rel.startswith(w + "/") or w.startswith(rel + "/") for w in wanted):
            selected.append((pointer_file, pointer))
    if not selected:
        raise InvalidArgument(
            f"none of {', '.join(wanted)} is tracked at that revision; check the paths"
        )
    return selected


def _prepare(
    repo: DataRepo,
    pointer_file: Path,
    target: Pointer,
    known: Mapping[str, StatEntry],
    force: bool,
) -> tuple[str, dict[str, tuple[str, int]] | None, Comparison]:
    """Compare the workspace with the target; InvalidState if unsaved bytes would be lost.

    A workspace file is safe to replace when its content is in the cache
    (the stat index vouches for what ``add`` and ``checkout`` wrote; other
    files that would change are hashed and looked up).
    """
    data_path = data_path_for(pointer_file)
    rel = repo.relpath(data_path)
    expected = expected_files(repo, target)
    comparison = compare(rel, data_path, expected or {}, known)
    if expected is None or force:
        return rel, expected, comparison
    unknown = comparison.unknown
    for file, object_id in zip(unknown, hash_files(unknown), strict=True):
        comparison.current[file.rel] = object_id
    present = presence_checker(repo)
    lost = sorted(
        name
        for name, object_id in comparison.current.items()
        if expected.get(name, ("", 0))[0] != object_id and not present(object_id)
    )
    if lost:
        shown = ", ".join(f"{rel}/{f}" if f else rel for f in lost[:_SHOWN])
        more = f" and {len(lost) - _SHOWN} more" if len(lost) > _SHOWN else ""
        raise InvalidState(
            f"checkout would overwrite local changes: {shown}{more}; keep them with "
            f"`loopml data add {rel}` or discard them with `--force`"
        )
    return rel, expected, comparison


def _already_right(expected: Mapping[str, tuple[str, int]], comparison: Comparison) -> bool:
    return comparison.names == set(expected) and all(
        comparison.current.get(rel) == oid for rel, (oid, _) in expected.items()
    )
