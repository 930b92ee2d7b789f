"""The repository lock: one mutating ``loopml data`` command at a time per repository.

``fcntl.flock`` on ``.loopml/lock`` (LOCK_EX | LOCK_NB): a second command
fails at once instead of waiting, and the kernel drops the lock when the
holder dies, so a crashed command never leaves the repository locked. The
lock is re-entrant within one process (``pull`` holds it and calls
``checkout``, which takes it again).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loopml.core.errors import InvalidState, StorageError

_GUARD = threading.Lock()
_HELD: dict[str, tuple[int, int, int]] = {}  # lock path -> (owner thread, depth, fd)


@contextmanager
def repo_lock(lock_file: Path, root: Path) -> Iterator[None]:
    """Hold the exclusive lock of the repository at ``root`` for the ``with`` body.

    InvalidState naming the holder's pid if another process holds it, or if
    another thread of this process does.
    """
    key = str(lock_file)
    me = threading.get_ident()
    with _GUARD:
        held = _HELD.get(key)
        if held is not None:
            if held[0] != me:
                raise _busy(root, os.getpid())
            _HELD[key] = (me, held[1] + 1, held[2])
            fd = -1
        else:
            fd = _acquire(lock_file, root)
            _HELD[key] = (me, 1, fd)
    try:
        yield
    finally:
        with _GUARD:
            owner, depth, held_fd = _HELD[key]
            if depth > 1:
                _HELD[key] = (owner, depth - 1, held_fd)
            else:
                del _HELD[key]
                os.close(held_fd)  # closing the descriptor releases the flock


def _acquire(lock_file: Path, root: Path) -> int:
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageError(f"could not open the lock file {lock_file}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _holder(fd)
        os.close(fd)
        raise _busy(root, pid) from None
    except OSError as exc:
        os.close(fd)
        raise StorageError(f"could not lock {lock_file}: {exc.strerror}") from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _busy(root: Path, pid: int | None) -> InvalidState:
    who = f" (pid {pid})" if pid is not None else ""
    return InvalidState(
        f"another loopml data command is running in {root}{who}; retry when it finishes"
    )
