"""The workspace side of the cache: link stored blobs into place, protect them, materialise.

Blobs (contents up to the store's chunking threshold) are plain files at
``<cache>/blobs/ab/cdef...``, so a workspace file can *be* the cached blob:
a reflink (a copy-on-write clone: independent, nothing to protect), else a
hardlink (the same inode, so it is made read-only: an in-place edit would
corrupt the cache), else a copy. Which works is probed once per repository
and remembered in the state database. Hardlinks are not used by root unless
``link = "hardlink"`` is configured: permission bits do not stop root's
writes, so a ``>`` redirect into a workspace file would rewrite the cached
bytes of every version sharing them. ``link`` in ``config.toml`` names the
first mode to try (``copy``: never link).
Chunked contents are materialised with :meth:`ObjectStore.get_file`.

Every placement is atomic: the new file is made under a temporary name in
the destination folder and renamed over the destination.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.core.atomic import TEMP_PREFIX
from loopml.core.errors import NotFound, StorageError
from loopml.core.hashing import hash_bytes
from loopml.data._index import StatRow
from loopml.data._pointer import Pointer
from loopml.data._progress import NO_PROGRESS, BytesTold, OnRead, Progress
from loopml.data._repo import DataRepo
from loopml.data._scan import BATCH, ScannedFile, worker_count

if TYPE_CHECKING:
    from loopml.objects import PackWriter

FICLONE = 0x40049409
LINK_MODES = ("reflink", "hardlink", "copy")
_META_KEY = "link_mode"
_UNSUPPORTED = {
    errno.EOPNOTSUPP,
    errno.ENOTTY,
    errno.EINVAL,
    errno.EXDEV,
    errno.ENOSYS,
    errno.EBADF,
    errno.EPERM,
    errno.EMLINK,
}


def link_modes(configured: str | None) -> tuple[str, ...]:
    """The link modes to try in order: from ``configured`` on, or the safe default.

    The default leaves hardlinks out for root, whom read-only bits do not stop.
    """
    if configured is not None:
        return LINK_MODES[LINK_MODES.index(configured) :]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return tuple(m for m in LINK_MODES if m != "hardlink")
    return LINK_MODES


def protected_mode(mode: int) -> int:
    """``mode`` without write bits: a hardlinked file must not be edited in place."""
    return mode & ~0o222


class Linker:
    """Places cached blobs into the workspace with the best link mode the filesystems allow.

    Thread-safe: workers call :meth:`link_back` and :meth:`place` at once.
    Call :meth:`save` from the thread that owns the repository's index.
    """

    def __init__(self, repo: DataRepo) -> None:
        self._repo = repo
        self._cache_root = repo.cache_root
        self._threshold = repo.chunking_threshold
        self._made_dirs: set[str] = set()
        remembered = repo.index.get_meta(_META_KEY)
        self._remembered = remembered
        allowed = link_modes(repo.config().link)
        if remembered in allowed:
            self._modes = list(allowed[allowed.index(remembered) :])
        else:
            self._modes = list(allowed[allowed.index(self._probe(allowed)) :])
        self._lock = threading.Lock()
        self._packer: PackWriter | None = None

    def _probe(self, allowed: Sequence[str]) -> str:
        """The best allowed link mode between the cache and the workspace filesystems."""
        os.makedirs(self._cache_root, exist_ok=True)
        src = os.path.join(self._cache_root, f"{TEMP_PREFIX}probe-{secrets.token_hex(6)}")
        dst = os.path.join(self._repo.tmp, f"{TEMP_PREFIX}probe-{secrets.token_hex(6)}")
        try:
            with open(src, "wb") as out:
                out.write(b"loopml link probe")
            for mode, make in (("reflink", _reflink), ("hardlink", os.link)):
                if mode not in allowed:
                    continue
                try:
                    make(src, dst)
                except OSError:
                    continue
                os.unlink(dst)
                return mode
            return "copy"
        except OSError as exc:
            raise StorageError(f"could not write to the cache {self._cache_root}: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(src)

    @property
    def mode(self) -> str:
        """The best link mode not yet found failing."""
        return self._modes[0]

    def save(self) -> None:
        """Remember the working link mode for the next command."""
        if self.mode != self._remembered:
            self._repo.index.set_meta(_META_KEY, self.mode)
            self._remembered = self.mode

    def blob_path(self, object_id: str) -> str:
        """Where the store keeps a plain (unchunked) content: ``blobs/ab/cdef...``."""
        return os.path.join(self._cache_root, "blobs", object_id[:2], object_id[2:])

    # -- add: store a file and make the workspace share the cached blob ------------------

    @contextlib.contextmanager
    def packing(self) -> Iterator[int]:
        """While this lasts, new small files are stored into packs (in copy mode only).

        A copied workspace file shares nothing with the cache, so its content
        need not be a file of its own there: one pack for thousands of small
        files spares a file creation each. The packs are written when the
        block ends, before anything durable may name their contents. Yields
        the size up to which files are packed (0: packing is off).
        """
        if self.mode != "copy":
            yield 0
            return
        with self._repo.cache.packing() as writer:
            self._packer = writer
            try:
                yield writer.limit
            finally:
                self._packer = None

    def store(
        self, file: ScannedFile, vouched: str | None, on_read: OnRead | None = None
    ) -> tuple[str, os.stat_result | None]:
        """Store ``file`` (unless the index vouches for its id) and link it with the cache.

        In hardlink mode a new small file is stored by linking it *into* the
        cache (no bytes copied); otherwise it is put and linked back. A large
        file's bytes are told to ``on_read`` as they are read (progress).
        """
        if vouched is not None:
            return vouched, self.link_back(file, vouched, None)
        packer = self._packer
        if packer is not None and self.mode == "copy":
            return packer.put_file(file.path, on_read=on_read).id, None
        if self.mode == "hardlink" and file.size <= self._threshold:
            adopted = self._adopt(file)
            if adopted is not None:
                return adopted
        info = self._repo.cache.put_file(file.path, on_read=on_read)
        return info.id, self.link_back(file, info.id, info.chunked)

    def _adopt(self, file: ScannedFile) -> tuple[str, os.stat_result | None] | None:
        """Hardlink a small file into the cache as its blob; None if it cannot be linked."""
        os.chmod(file.path, protected_mode(file.mode))
        with open(file.path, "rb") as source:
            before = os.fstat(source.fileno())
            data = source.read()
        object_id = hash_bytes(data)
        blob = self.blob_path(object_id)
        if os.path.exists(blob):
            return object_id, self.link_back(file, object_id, False)
        folder = os.path.dirname(blob)
        if folder not in self._made_dirs:
            os.makedirs(folder, exist_ok=True)
            self._made_dirs.add(folder)
        try:
            os.link(file.path, blob)
        except FileExistsError:  # stored by a concurrent writer meanwhile
            return object_id, self.link_back(file, object_id, False)
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
            os.chmod(file.path, file.mode)
            return None
        after = os.stat(file.path)
        if (after.st_mtime_ns, after.st_size) != (before.st_mtime_ns, len(data)):
            os.unlink(blob)
            raise StorageError(f"{file.path} changed while it was being added; add it again")
        return object_id, after

    def link_back(
        self, file: ScannedFile, object_id: str, chunked: bool | None
    ) -> os.stat_result | None:
        """Make the workspace ``file`` share the cached blob; its new stat, or None if unchanged.

        Chunked contents and the copy mode leave the user's file as it is.
        """
        if chunked or self.mode == "copy":
            return None
        blob = self.blob_path(object_id)
        try:
            blob_st = os.stat(blob)
        except FileNotFoundError:
            return None  # chunked (the index did not say): nothing to link
        if blob_st.st_ino == file.inode and blob_st.st_dev == os.stat(file.path).st_dev:
            return None  # already linked
        return self._link(blob, file.path, file.mode, keep_mtime=file.mtime_ns)

    # -- checkout: put a stored content at a path ----------------------------------------

    def place(
        self, object_id: str, dest: str, mode: int, on_write: OnRead | None = None
    ) -> os.stat_result:
        """Put content ``object_id`` at ``dest`` atomically, linked when possible.

        NotFound if the cache does not hold it. A chunked content's bytes are
        told to ``on_write`` as they are written (progress).
        """
        blob = self.blob_path(object_id)
        if os.path.exists(blob):
            return self._link(blob, dest, mode, keep_mtime=None)
        # Chunked (or absent: NotFound).
        self._repo.cache.get_file(object_id, dest, on_write=on_write)
        os.chmod(dest, mode)
        return os.stat(dest)

    # -- internals -------------------------------------------------------------------------

    def _link(self, blob: str, dest: str, mode: int, *, keep_mtime: int | None) -> os.stat_result:
        tmp = os.path.join(os.path.dirname(dest), f"{TEMP_PREFIX}{secrets.token_hex(6)}")
        try:
            used = self._make(blob, tmp)
            if used == "hardlink":
                os.chmod(tmp, protected_mode(mode))
            else:
                os.chmod(tmp, mode)
                if keep_mtime is not None:
                    # The content did not change: keep its date, so the stat index stays valid.
                    os.utime(tmp, ns=(keep_mtime, keep_mtime))
            st = os.stat(tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise StorageError(f"could not write {dest}: {exc.strerror or exc}") from exc
        return st

    def _make(self, blob: str, tmp: str) -> str:
        """Create ``tmp`` from ``blob`` with the first link mode that works; the mode used."""
        while True:
            mode = self.mode
            try:
                if mode == "reflink":
                    _reflink(blob, tmp)
                elif mode == "hardlink":
                    os.link(blob, tmp)
                else:
                    shutil.copyfile(blob, tmp)
                return mode
            except OSError as exc:
                if mode == "copy" or exc.errno not in _UNSUPPORTED:
                    raise
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                with self._lock:
                    if self._modes[0] == mode:
                        self._modes.pop(0)


def _reflink(src: str, dst: str) -> None:
    with open(src, "rb") as source:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(fd, FICLONE, source.fileno())
        except OSError:
            os.close(fd)
            os.unlink(dst)
            raise
        os.close(fd)


@dataclass
class Materialised:
    """What :func:`materialise` did: rows for the stat index, files placed and removed."""

    rows: list[StatRow] = field(default_factory=list)
    placed: int = 0
    removed: int = 0
    missing: list[str] = field(default_factory=list)
    """Relative paths whose content is not in the cache (left as they were)."""


def materialise(
    repo: DataRepo,
    pointer: Pointer,
    dest: Path,
    *,
    keep: Mapping[str, str] | None = None,
    progress: Progress = NO_PROGRESS,
) -> Materialised:
    """Make ``dest`` hold exactly the content ``pointer`` names.

    ``keep`` maps relative paths (``""`` for a single file) to the id the
    workspace file is known to have: those already right are not touched.
    Files under a folder ``dest`` that the tree does not list are removed. The
    caller decides whether local changes may be overwritten.
    """
    linker = Linker(repo)
    keep = keep or {}
    rel_root = repo.relpath(dest)
    result = Materialised()
    if pointer.kind == "file":
        wanted = {"": (pointer.id, 0o644, pointer.size)}
    else:
        tree = repo.cache.get_tree(pointer.id)
        wanted = {path: (e.id, e.mode, e.size) for path, e in tree.entries.items()}
    _clear_conflicts(dest, pointer.kind)
    if pointer.kind == "dir":
        result.removed = _remove_extra(dest, set(wanted))
    todo = [rel for rel, (oid, _, _) in wanted.items() if keep.get(rel) != oid]
    total = sum(wanted[rel][2] for rel in todo)
    progress.start(f"Checking out {dest.name}", total, "bytes")
    try:
        _place_all(linker, dest, todo, wanted, progress, result)
    finally:
        progress.finish()
    linker.save()
    for rel, (oid, _mode, _size) in wanted.items():
        if rel in result.missing:
            continue
        target = str(dest / rel) if rel else str(dest)
        try:
            st = os.stat(target)
        except FileNotFoundError:
            continue
        key = f"{rel_root}/{rel}" if rel else rel_root
        result.rows.append((key, st.st_ino, st.st_mtime_ns, st.st_size, oid))
    return result


def _place_all(
    linker: Linker,
    dest: Path,
    todo: Sequence[str],
    wanted: Mapping[str, tuple[str, int, int]],
    progress: Progress,
    result: Materialised,
) -> None:
    def batch(items: Sequence[str]) -> list[str]:
        missing = []
        told = BytesTold(progress)
        for rel in items:
            object_id, mode, _size = wanted[rel]
            target = dest / rel if rel else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                linker.place(object_id, str(target), mode, told)
            except NotFound:
                missing.append(rel)
        told.rest(sum(wanted[rel][2] for rel in items))
        return missing

    batches = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
    with ThreadPoolExecutor(worker_count(), thread_name_prefix="loopml-checkout") as pool:
        for items, missing in zip(batches, pool.map(batch, batches), strict=True):
            result.missing.extend(missing)
            result.placed += len(items) - len(missing)


def _clear_conflicts(dest: Path, kind: str) -> None:
    """Remove what stands where the other kind must go (a file where a folder goes, or back)."""
    if kind == "file" and dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest)
    elif kind == "dir" and (dest.is_file() or dest.is_symlink()):
        dest.unlink()


def _remove_extra(dest: Path, wanted: set[str]) -> int:
    """Delete files under ``dest`` not in ``wanted``, then the folders left empty."""
    if not dest.is_dir():
        return 0
    removed = 0
    for folder, dirs, files in os.walk(dest, topdown=False):
        rel_folder = Path(folder).relative_to(dest).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        for name in files:
            if prefix + name not in wanted:
                os.unlink(os.path.join(folder, name))
                removed += 1
        for name in dirs:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(folder, name))  # only succeeds when empty
    return removed


def presence_checker(repo: DataRepo) -> Callable[[str], bool]:
    """A fast ``id -> is it in the cache`` test: one ``stat`` for a blob, the store otherwise."""
    blobs = os.path.join(repo.cache_root, "blobs")
    store = repo.cache

    def present(object_id: str) -> bool:
        return os.path.exists(os.path.join(blobs, object_id[:2], object_id[2:])) or store.exists(
            object_id
        )

    return present
