"""Listing and hashing workspace files: the cheap part shared by add, status and checkout.

Nothing here touches the object store, so ``status`` (which usually needs
only these, the stat index and the pointer files) starts without loading it.
"""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from loopml.core.errors import InvalidArgument, NotFound

BATCH = 64
"""Files per thread-pool task."""


def worker_count() -> int:
    """Threads for per-file work: file I/O waits in the kernel, so a few more than the CPUs."""
    return min(32, (os.cpu_count() or 1) + 2)


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """A regular file found under a data path, with the stat that dates its content."""

    rel: str
    """POSIX path relative to the data path ("" for a single file)."""
    path: str
    inode: int
    mtime_ns: int
    size: int
    mode: int
    """0o755 if any execute bit is set, else 0o644 (write bits are not versioned)."""


def _mode(st_mode: int) -> int:
    return 0o755 if st_mode & 0o111 else 0o644


def scanned(path: str, rel: str, st: os.stat_result) -> ScannedFile:
    """A :class:`ScannedFile` from a stat result."""
    return ScannedFile(rel, path, st.st_ino, st.st_mtime_ns, st.st_size, _mode(st.st_mode))


def scan(path: Path) -> tuple[str, list[ScannedFile]]:
    """The kind ("file" or "dir") of ``path`` and its regular files, sorted by relative path.

    NotFound if ``path`` does not exist; InvalidArgument for special files,
    broken links and links to folders inside it (they would not round-trip).
    """
    kind, stats = walk_stats(path)
    files = [scanned(full, rel, st) for rel, full, st in stats]
    files.sort(key=lambda f: f.rel)
    return kind, files


def walk_stats(path: Path) -> tuple[str, Iterator[tuple[str, str, os.stat_result]]]:
    """The kind of ``path`` and its regular files as (relative path, path, stat), unsorted.

    The cheap form of :func:`scan` for ``status``, which builds no object per
    unchanged file. Errors as for :func:`scan`.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist") from None
    if stat_mod.S_ISREG(st.st_mode):
        return "file", iter([("", str(path), st)])
    if not stat_mod.S_ISDIR(st.st_mode):
        raise InvalidArgument(f"{path} is not a regular file or folder")
    return "dir", _walk(str(path))


def _walk(root: str) -> Iterator[tuple[str, str, os.stat_result]]:
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, rel + "/"))
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    raise InvalidArgument(f"{entry.path} is a broken link; remove it") from None
                if stat_mod.S_ISREG(st.st_mode):
                    yield rel, entry.path, st
                elif stat_mod.S_ISDIR(st.st_mode):
                    raise InvalidArgument(
                        f"{entry.path} is a link to a folder, which loopml data does not follow; "
                        "replace it with the folder or track the target"
                    )
                else:
                    raise InvalidArgument(f"{entry.path} is not a regular file; remove it")


def hash_file(path: str) -> str:
    """BLAKE3 of a file's content: the id it would be stored under (chunked or not)."""
    import blake3

    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    hasher.update_mmap(path)
    return str(hasher.hexdigest())


def hash_files(files: Sequence[ScannedFile]) -> list[str]:
    """The content ids of ``files``, hashed in a thread pool."""
    if len(files) <= 1:
        return [hash_file(f.path) for f in files]
    # Imported here: ``status`` loads this module and rarely hashes (~8 ms of imports).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(worker_count(), thread_name_prefix="loopml-status") as pool:
        return list(pool.map(lambda f: hash_file(f.path), files))
