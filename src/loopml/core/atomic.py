"""Atomic small-file writes (pointers, config, reports): a temp file, then a rename."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from loopml.core.errors import StorageError

TEMP_PREFIX = ".loopml-tmp-"
"""Basename prefix of an in-progress write beside its target."""


_DEFAULT_MODE = 0o666
"""What ``open`` creates a file with (before the umask): the mode when none is asked for."""


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temp file and a rename.

    A reader sees the old content or the new one, never a partial file, even
    if the process dies mid-write. StorageError if the folder is not writable.
    ``mode`` (e.g. ``0o600`` for a secret; the umask still applies) is the temp
    file's from its creation, before any byte is written, so the content is
    never readable by more than ``mode`` allows, not even for an instant.
    """
    write_bytes_atomic(path, text.encode("utf-8"), mode=mode)


def write_bytes_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename (see write_text_atomic)."""
    # os.urandom is what secrets.token_hex reads; importing secrets (hmac, hashlib,
    # random) costs ~8 ms, a tenth of a `loopml data status`.
    tmp = path.with_name(f"{TEMP_PREFIX}{os.urandom(6).hex()}-{path.name}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, _DEFAULT_MODE if mode is None else mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(f"could not write {path}: {exc.strerror or exc}") from exc
