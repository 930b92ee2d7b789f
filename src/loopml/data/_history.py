"""``loopml data log PATH``: the versions of a tracked path across git history.

A version is a commit that changed the path's pointer file, with the
pointer as committed there (content id, size, file count). The history
costs two git processes however long it is: one ``git log`` for the commits
and one ``git cat-file --batch`` for the pointers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from loopml.core.errors import NotFound
from loopml.data._git import Commit, commits_touching, pointer_from_blob, read_blobs
from loopml.data._pointer import POINTER_SUFFIX, Pointer
from loopml.data._repo import DataRepo


@dataclass(frozen=True)
class DataVersion:
    """One version of a tracked path: the commit, and the pointer committed there.

    ``pointer`` is None for a commit that deleted the pointer file (the path
    stopped being tracked there; a later version may track it again).
    """

    commit: Commit
    pointer: Pointer | None


def log(repo: DataRepo, path: Path | str) -> list[DataVersion]:
    """Every committed version of the tracked file or folder ``path``, newest first.

    ``path`` is the data path or its ``.loopml`` pointer file (relative to
    the current folder). NotFound with a hint when no commit ever touched its
    pointer file; InvalidArgument if the repository is not in git, or if a
    committed pointer is not valid (naming the commit and the file).
    """
    relpath = repo.relpath(path)
    if relpath.endswith(POINTER_SUFFIX) and len(relpath.rpartition("/")[2]) > len(POINTER_SUFFIX):
        relpath = relpath[: -len(POINTER_SUFFIX)]
    pointer_relpath = relpath + POINTER_SUFFIX
    commits = commits_touching(repo.root, pointer_relpath)
    if not commits:
        raise NotFound(f"{relpath} has no committed versions: {_hint(repo, relpath)}")
    contents = read_blobs(repo.root, [(c.sha, pointer_relpath) for c in commits])
    return [
        DataVersion(
            commit=commit,
            pointer=None
            if content is None
            else pointer_from_blob(content, commit.sha, pointer_relpath),
        )
        for commit, content in zip(commits, contents, strict=True)
    ]


def _hint(repo: DataRepo, relpath: str) -> str:
    """What to do about a path without history, depending on how it is tracked now."""
    pointer_relpath = relpath + POINTER_SUFFIX
    if (repo.root / pointer_relpath).is_file():
        return f"commit its pointer file (`git add {pointer_relpath} && git commit`)"
    parts = relpath.split("/")
    for n in range(len(parts) - 1, 0, -1):
        folder = "/".join(parts[:n])
        if (repo.root / (folder + POINTER_SUFFIX)).is_file():
            return (
                f"it is inside the tracked folder {folder}; run `loopml data log {folder}` "
                "(versions are kept per tracked path)"
            )
    if os.path.lexists(repo.root / relpath):
        return f"no commit has a pointer for it; track it with `loopml data add {relpath}`"
    return f"nothing at {relpath} is tracked, now or in any commit; check the path"
