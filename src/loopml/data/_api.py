"""Reading tracked data at a version: ``lm.data.open`` and ``lm.data.get``.

A path names a tracked file or folder (``PATH`` beside ``PATH.loopml``) or a
file or subfolder inside a tracked folder. ``rev`` is a git revision whose
committed pointer files say which content to read; None reads what the
pointer files in the workspace name (not the workspace data itself, which
may have been edited since ``add``). Bytes come from the cache and, for an
object it lacks, from the default remote; every read verifies the content
against its BLAKE3 id, so what you read is exactly what was versioned.

Paths cannot escape: the path is resolved against the repository (outside
is InvalidArgument), pointer names are plain names, and tree entries are
checked relative paths before anything is written under ``out``.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, TextIO, TypeVar, overload

from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound, StorageError
from loopml.data._git import pointer_from_blob, read_blobs, resolve_rev
from loopml.data._pointer import POINTER_SUFFIX, Pointer, read_pointer
from loopml.data._progress import NO_PROGRESS, Progress
from loopml.data._repo import DataRepo
from loopml.objects import ObjectStore, Tree, TreeEntry, validate_tree_path

T = TypeVar("T")
_COPY_THREADS = 8
_TEMP_PREFIX = ".loopml-get-"


@dataclass(frozen=True)
class Located:
    """The pointer that covers a path at a version, and where the path sits in its data."""

    data_relpath: str
    pointer: Pointer
    inner: str | None
    """The path below a tracked folder, or None when the path is the tracked path itself."""
    commit: str | None
    """The commit the pointer was read from; None for the workspace's pointer file."""

    def describe(self, rev: str | None) -> str:
        """``data/x`` plus where its pointer came from, for messages."""
        where = "in the workspace" if self.commit is None else f"at {rev} ({self.commit[:12]})"
        return f"{self.data_relpath} {where}"


# -- reading objects from the cache, else from the default remote ------------------------


def _fallback(repo: DataRepo, object_id: str, what: str, read: Callable[[ObjectStore], T]) -> T:
    """``read(cache)``, or ``read(default remote)`` when the cache lacks ``object_id``."""
    try:
        return read(repo.cache)
    except NotFound:
        pass
    missing = f"{what}: object {object_id} is not in the cache ({repo.cache.uri})"
    name = repo.config().default_remote
    if name is None:
        raise NotFound(
            f"{missing} and no default remote is configured; add the remote that holds it "
            "(`loopml data remote add NAME URL`, `loopml data remote default NAME`), then "
            "run `loopml data fetch`"
        ) from None
    try:
        return read(repo.remote_store(name))
    except NotFound:
        raise NotFound(
            f"{missing} nor in the remote {name!r}; run `loopml data push` where the data "
            "was added, then `loopml data fetch` here"
        ) from None
    except StorageError as exc:
        raise StorageError(
            f"{missing} and the remote {name!r} could not be read ({exc.message}); check "
            "the remote, then run `loopml data fetch`"
        ) from exc


def load_tree(repo: DataRepo, tree_id: str, *, what: str) -> Tree:
    """The tree ``tree_id`` from the cache, else from the default remote (then kept in the cache).

    Only the tree object is copied, never the files it lists, so listing a
    folder at an old version stays cheap. NotFound saying to ``loopml data
    fetch`` when neither has it.
    """
    try:
        return repo.cache.get_tree(tree_id)
    except NotFound:
        pass
    tree = _fallback(repo, tree_id, what, lambda store: store.get_tree(tree_id))
    repo.cache.put_tree(dict(tree.entries))  # canonical encoding: stored under the same id
    return tree


def open_object(repo: DataRepo, object_id: str, *, what: str) -> BinaryIO:
    """A verifying binary stream of a content, from the cache or else the default remote."""
    return _fallback(repo, object_id, what, lambda store: store.open(object_id))


# -- locating a path at a version ------------------------------------------------------------


def _ancestors(relpath: str) -> list[str]:
    """``a/b/c`` -> ``["a/b/c", "a/b", "a"]``: the tracked paths that could cover it."""
    parts = relpath.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def locate(repo: DataRepo, relpath: str, rev: str | None) -> Located:
    """The pointer covering ``relpath`` (a tracked path or a path inside a tracked folder).

    NotFound naming the version and the way to track it when no pointer
    covers the path; InvalidArgument for an unknown revision or a bad pointer.
    """
    candidates = _ancestors(relpath)
    sha: str | None = None
    if rev is None:
        for data_relpath in candidates:
            pointer_file = repo.root / (data_relpath + POINTER_SUFFIX)
            if pointer_file.is_file():
                return _located(relpath, data_relpath, read_pointer(pointer_file), None)
        where = "in the workspace"
    else:
        sha = resolve_rev(repo.root, rev)
        pointer_relpaths = [c + POINTER_SUFFIX for c in candidates]
        contents = read_blobs(repo.root, [(sha, p) for p in pointer_relpaths])
        for data_relpath, pointer_relpath, content in zip(
            candidates, pointer_relpaths, contents, strict=True
        ):
            if content is not None:
                pointer = pointer_from_blob(content, sha, pointer_relpath)
                return _located(relpath, data_relpath, pointer, sha)
        where = f"at {rev} ({sha[:12]})"
    raise NotFound(
        f"{relpath} is not tracked {where}: no {relpath}{POINTER_SUFFIX} and no tracked "
        f"folder contains it; track it with `loopml data add {relpath}` and commit the "
        "pointer file"
    )


def _located(relpath: str, data_relpath: str, pointer: Pointer, sha: str | None) -> Located:
    inner = relpath[len(data_relpath) + 1 :] or None
    return Located(data_relpath=data_relpath, pointer=pointer, inner=inner, commit=sha)


def files_of(repo: DataRepo, found: Located, rev: str | None) -> tuple[bool, dict[str, TreeEntry]]:
    """Whether the located path is a folder, and its files (names relative to it -> entries).

    A file maps its own name to its entry. NotFound if the path is not in
    the tracked folder at that version.
    """
    pointer = found.pointer
    what = found.describe(rev)
    if pointer.kind == "file":
        if found.inner is not None:
            raise NotFound(f"{found.data_relpath} is a tracked file, not a folder ({what})")
        name = found.data_relpath.rpartition("/")[2]
        return False, {name: TreeEntry(pointer.id, pointer.size)}
    tree = load_tree(repo, pointer.id, what=what)
    if found.inner is None:
        return True, dict(tree.entries)
    entry = tree.entries.get(found.inner)
    if entry is not None:
        return False, {found.inner.rpartition("/")[2]: entry}
    prefix = found.inner + "/"
    inside = {p[len(prefix) :]: e for p, e in tree.entries.items() if p.startswith(prefix)}
    if not inside:
        raise NotFound(
            f"no {found.inner} in the tracked folder {what}; list it with "
            f"`loopml data diff` or check the path"
        )
    return True, inside


def _resolve(path: str | os.PathLike[str], repo: DataRepo | None) -> tuple[DataRepo, str]:
    """The repository and the POSIX path below its root that ``path`` names."""
    raw = os.fspath(path)
    if not raw:
        raise InvalidArgument("path must not be empty")
    if repo is None:
        absolute = Path(os.path.abspath(raw))
        start = absolute
        while not start.exists() and start != start.parent:
            start = start.parent
        repo = DataRepo.find(start)
    else:
        absolute = Path(os.path.abspath(repo.root / raw))  # relative paths are from the root
    relpath = repo.relpath(absolute)
    if relpath.endswith(POINTER_SUFFIX) and len(relpath.rpartition("/")[2]) > len(POINTER_SUFFIX):
        relpath = relpath[: -len(POINTER_SUFFIX)]  # the pointer file stands for its data
    return repo, relpath


# -- the public functions ----------------------------------------------------------------------


@overload
def open(
    path: str | os.PathLike[str],
    rev: str | None = None,
    mode: Literal["rb"] = "rb",
    *,
    repo: DataRepo | None = None,
    encoding: None = None,
) -> BinaryIO: ...


@overload
def open(
    path: str | os.PathLike[str],
    rev: str | None,
    mode: Literal["r", "rt"],
    *,
    repo: DataRepo | None = None,
    encoding: str | None = None,
) -> TextIO: ...


@overload
def open(
    path: str | os.PathLike[str],
    rev: str | None = None,
    *,
    mode: Literal["r", "rt"],
    repo: DataRepo | None = None,
    encoding: str | None = None,
) -> TextIO: ...


def open(
    path: str | os.PathLike[str],
    rev: str | None = None,
    mode: str = "rb",
    *,
    repo: DataRepo | None = None,
    encoding: str | None = None,
) -> BinaryIO | TextIO:
    """Open a tracked file, or a file inside a tracked folder, as it was at git revision ``rev``.

    ``rev`` None reads what the workspace's pointer file names. ``mode`` is
    ``"rb"`` (a binary stream) or ``"r"``/``"rt"`` (text, ``encoding``
    default UTF-8). ``path`` is relative to the current folder, or to the
    repository root when ``repo`` is given. The stream verifies the content's
    hash as it reaches the end (CorruptObject on damage). NotFound if the
    path is not tracked at that version or its bytes are in neither the cache
    nor the default remote; InvalidArgument for a folder, an unknown revision
    or a write mode.
    """
    if mode not in ("rb", "r", "rt"):
        raise InvalidArgument(
            f"mode must be 'rb', 'r' or 'rt' (data versions are read-only), got {mode!r}"
        )
    if mode == "rb" and encoding is not None:
        raise InvalidArgument("encoding applies to text mode only; use mode='r'")
    data_repo, relpath = _resolve(path, repo)
    found = locate(data_repo, relpath, rev)
    is_folder, files = files_of(data_repo, found, rev)
    if is_folder:
        raise InvalidArgument(
            f"{relpath} is a folder ({found.describe(rev)}); open a file inside it, or copy "
            "the folder with loopml.data.get"
        )
    (entry,) = files.values()
    stream = open_object(data_repo, entry.id, what=f"{relpath} ({found.describe(rev)})")
    if mode == "rb":
        return stream
    return io.TextIOWrapper(stream, encoding=encoding or "utf-8")


def get(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    rev: str | None = None,
    *,
    repo: DataRepo | None = None,
    force: bool = False,
    progress: Progress = NO_PROGRESS,
) -> Path:
    """Copy a tracked file or folder (or one inside a tracked folder) at ``rev`` to ``out``.

    ``out`` is the exact destination and appears whole or not at all: files
    are written into a temporary sibling that is renamed into place once
    every byte is verified. An existing ``out`` is AlreadyExists unless
    ``force``, which replaces it. Returns ``out`` as an absolute path. Same
    path rules and errors as :func:`open`.
    """
    data_repo, relpath = _resolve(path, repo)
    found = locate(data_repo, relpath, rev)
    is_folder, files = files_of(data_repo, found, rev)
    target = Path(os.path.abspath(out))
    if (target.exists() or target.is_symlink()) and not force:
        raise AlreadyExists(f"{target} exists; remove it, choose another out, or pass force=True")
    what = f"{relpath} ({found.describe(rev)})"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {target.parent}: {exc.strerror or exc}") from exc
    staging = target.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(6)}-{target.name}")
    try:
        if is_folder:
            _write_folder(data_repo, files, staging, what, progress)
        else:
            (entry,) = files.values()
            _write_file(data_repo, entry, staging, what)
        _swap_into_place(staging, target)
    except BaseException:
        _remove(staging)
        raise
    return target


def _write_file(repo: DataRepo, entry: TreeEntry, dest: Path, what: str) -> None:
    _fallback(repo, entry.id, what, lambda store: store.get_file(entry.id, dest))
    try:
        os.chmod(dest, (entry.mode & 0o777) | 0o600)
    except OSError as exc:
        raise StorageError(f"could not set the mode of {dest}: {exc.strerror or exc}") from exc


def _write_folder(
    repo: DataRepo, files: dict[str, TreeEntry], staging: Path, what: str, progress: Progress
) -> None:
    """Write every file under ``staging``, a new folder; entry names are checked first."""
    for name in files:
        validate_tree_path(name)  # already checked when the tree was read; never trust twice
    try:
        staging.mkdir()
        for folder in sorted({name.rpartition("/")[0] for name in files} - {""}):
            (staging / folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {staging}: {exc.strerror or exc}") from exc

    def write(item: tuple[str, TreeEntry]) -> None:
        name, entry = item
        _write_file(repo, entry, staging / name, f"{what}: {name}")
        progress.advance()

    progress.start(f"Copying {what}", len(files))
    try:
        with ThreadPoolExecutor(max_workers=_COPY_THREADS) as pool:
            for _ in pool.map(write, files.items()):
                pass
    finally:
        progress.finish()


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``; an existing target is moved aside, then deleted."""
    aside: Path | None = None
    try:
        occupied = target.exists() or target.is_symlink()
        if occupied and (staging.is_dir() or (target.is_dir() and not target.is_symlink())):
            aside = target.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(6)}-old-{target.name}")
            os.replace(target, aside)
        os.replace(staging, target)
    except OSError as exc:
        if aside is not None and not target.exists():
            os.replace(aside, target)
        raise StorageError(f"could not move the copy to {target}: {exc.strerror or exc}") from exc
    if aside is not None:
        _remove(aside)


def _remove(path: Path) -> None:
    """Best-effort removal of a staging or displaced file or folder."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    except OSError:
        pass  # a leftover temp name is harmless and says what it is
