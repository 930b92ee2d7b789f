"""``add``: store files or folders in the cache, link them back, write their pointer files.

The order makes an interrupted add harmless and a re-run fast: objects are
stored first (each write atomic), then the stat index learns the files, then
the content is pinned in the cache (so no platform ``loopml gc`` deletes it:
the platform's database does not see pointer files), then the pointer file
is written (atomically), then ``.gitignore``. Until the
pointer exists nothing refers to the new objects; a re-run finds every file
in the index and in the cache and only writes what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loopml.core.atomic import write_text_atomic
from loopml.core.errors import InvalidArgument, NotFound
from loopml.data._pointer import POINTER_SUFFIX, Pointer, pointer_file_for, write_pointer
from loopml.data._progress import NO_PROGRESS, Progress
from loopml.data._repo import DataRepo
from loopml.data._snapshot import ScannedFile, capture, stored_ids
from loopml.data._workspace import Linker


def add(
    repo: DataRepo, paths: Sequence[Path], *, progress: Progress = NO_PROGRESS
) -> list[Pointer]:
    """Track each of ``paths`` (files or folders inside ``repo``); return their pointers.

    Holds the repository lock (InvalidState if another command runs).
    InvalidArgument for a path outside the repository, a pointer file, a
    path inside a tracked folder or a folder holding tracked paths; NotFound
    for a path that does not exist.
    """
    if isinstance(paths, str | Path):
        raise InvalidArgument("add takes a list of paths")
    rels = _checked(repo, paths)
    pointers: list[Pointer] = []
    with repo.lock():
        linker = Linker(repo)
        try:
            for rel in rels:
                pointers.append(_add_one(repo, rel, linker, progress))
        finally:
            linker.save()
    return pointers


def _checked(repo: DataRepo, paths: Sequence[Path]) -> list[str]:
    """Repository-relative paths, validated before anything is written."""
    rels: list[str] = []
    for path in paths:
        rel = repo.relpath(path)
        name = rel.rpartition("/")[2]
        if name.endswith(POINTER_SUFFIX):
            raise InvalidArgument(
                f"{path} is a pointer file; add the data path {name[: -len(POINTER_SUFFIX)]!r}"
            )
        if not (repo.root / rel).exists() and not (repo.root / rel).is_symlink():
            hint = (
                "; its pointer exists: restore the data with `loopml data checkout`"
                if pointer_file_for(repo.root / rel).exists()
                else ""
            )
            raise NotFound(f"{path} does not exist{hint}")
        if (repo.root / rel).is_symlink():
            raise InvalidArgument(
                f"{path} is a symbolic link; add the file or folder it points to instead"
            )
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            ancestor = "/".join(parts[:depth])
            if pointer_file_for(repo.root / ancestor).exists():
                raise InvalidArgument(
                    f"{path} is inside the tracked folder {ancestor}; add {ancestor} again instead"
                )
        if rel in rels:
            continue
        rels.append(rel)
    return rels


def _add_one(repo: DataRepo, rel: str, linker: Linker, progress: Progress) -> Pointer:
    data_path = repo.root / rel

    def reject_nested(files: list[ScannedFile]) -> None:
        nested = [f.rel for f in files if f.rel.endswith(POINTER_SUFFIX)]
        if nested:
            raise InvalidArgument(
                f"{rel} contains tracked data ({', '.join(nested[:3])}); add the parts "
                "separately or remove their pointer files first"
            )

    with linker.packing() as packed_below:
        result = capture(
            repo.cache,
            data_path,
            known=repo.index.load(rel),
            key_prefix=rel,
            progress=progress,
            store_file=linker.store,
            check=reject_nested,
            serial_below=packed_below,  # only read: threads would contend for the GIL
        )
    repo.index.record((f.row for f in result.files), replace_prefix=rel)
    repo.index.record_added(stored_ids(result))
    if result.tree_id is not None:
        repo.index.cache_tree(
            result.tree_id, {f.file.rel: (f.id, f.file.size) for f in result.files}
        )
    # Pinned before the pointer exists: a platform `loopml gc` never takes tracked data.
    repo.cache.pin(repo.pin_name, [result.pointer.id])
    write_pointer(pointer_file_for(data_path), result.pointer)
    ignore_in_git(data_path)
    return result.pointer


def ignore_in_git(data_path: Path) -> None:
    """Append ``/NAME`` to the ``.gitignore`` beside ``data_path`` unless it is there already."""
    gitignore = data_path.parent / ".gitignore"
    entry = "/" + _escape(data_path.name)
    try:
        text = gitignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if entry in (line.strip() for line in text.splitlines()):
        return
    if text and not text.endswith("\n"):
        text += "\n"
    write_text_atomic(gitignore, text + entry + "\n")


def _escape(name: str) -> str:
    """``name`` as a literal gitignore pattern (wildcards and a leading '#'/'!' escaped)."""
    escaped = "".join("\\" + c if c in "*?[]\\" else c for c in name)
    if escaped[0] in "#!":
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped
