"""The generated data of the data benchmark, its one edit, and the sizes measured on disk.

Everything is seeded: every copy of the big file and of the folder of small
files holds the same bytes, so both tools hash and store the same content.
Each tool gets its own copy, written in the same pass, so both start from the
same state (freshly written, in the page cache, flushed to disk).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIB = 1024 * 1024
_WRITE_CHUNK = 64 * MIB


@dataclass(frozen=True)
class Shape:
    """How much data: one big file, a folder of small files, the size of the edit."""

    big_bytes: int = 1024 * MIB
    files: int = 10_000
    file_bytes: int = 4096
    edit_bytes: int = MIB
    seed: int = 7


def write_big(paths: Sequence[Path], size: int, seed: int) -> None:
    """Write the same ``size`` random bytes to every path in ``paths``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    outs = [path.open("wb") for path in paths]
    try:
        left = size
        while left:
            block = rng.bytes(min(left, _WRITE_CHUNK))
            for out in outs:
                out.write(block)
            left -= len(block)
    finally:
        for out in outs:
            out.close()


def write_files(folders: Sequence[Path], count: int, size: int, seed: int) -> None:
    """Write ``count`` distinct files of ``size`` random bytes into every folder."""
    rng = np.random.Generator(np.random.PCG64(seed + 1))
    data = rng.bytes(count * size)
    for folder in folders:
        folder.mkdir(parents=True)
        for i in range(count):
            (folder / f"sample_{i:05d}.bin").write_bytes(data[i * size : (i + 1) * size])


def edit_middle(path: Path, size: int, seed: int) -> str:
    """Overwrite ``size`` bytes in the middle of ``path`` with new random bytes.

    In place when the file is a plain writable file; when it is a protected
    link into a cache (read-only, or several links) it is copied first, as a
    user would unprotect it, so the edit never reaches a cache's bytes.
    Returns how it was edited ("in place" or "copy").
    """
    block = np.random.Generator(np.random.PCG64(seed + 2)).bytes(size)
    offset = (path.stat().st_size - size) // 2
    stat = path.stat()
    how = "in place"
    target = path
    if stat.st_nlink > 1 or not os.access(path, os.W_OK):
        how = "copy"
        target = path.with_name(path.name + ".edit")
        shutil.copyfile(path, target)
    with target.open("r+b") as out:
        out.seek(offset)
        out.write(block)
    if target != path:
        os.replace(target, path)
    return how


def tree_bytes(root: Path) -> int:
    """Apparent bytes of the files under ``root``, each inode counted once (0 if absent)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for entry in _walk(root):
        stat = entry.stat(follow_symlinks=False)
        key = (stat.st_dev, stat.st_ino)
        if key not in seen:
            seen.add(key)
            total += stat.st_size
    return total


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    if not root.is_dir():
        return
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    yield entry


def digest(path: Path) -> str:
    """One BLAKE2b digest of a file, or of a folder's relative paths and contents."""
    hasher = hashlib.blake2b(digest_size=20)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        hasher.update(str(file.relative_to(path.parent)).encode() + b"\0")
        with file.open("rb") as stream:
            while block := stream.read(_WRITE_CHUNK):
                hasher.update(block)
    return hasher.hexdigest()
