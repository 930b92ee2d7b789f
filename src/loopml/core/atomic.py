"""Atomic small-file writes (pointers, config, reports): a temp file, then a rename."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from loopml.core.errors import StorageError

TEMP_PREFIX = ".loopml-tmp-"
"""Basename prefix of an in-progress write beside its target."""


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temp file and a rename.

    A reader sees the old content or the new one, never a partial file, even
    if the process dies mid-write. StorageError if the folder is not writable.
    """
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename (see write_text_atomic)."""
    tmp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}")
    try:
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(f"could not write {path}: {exc.strerror or exc}") from exc
