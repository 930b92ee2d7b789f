"""A pack being written into a local store: a temporary file, written directly, then stored.

Packs are written with ``O_DIRECT`` where the filesystem allows it.
Through the page cache, storing 1 GiB costs 1 GiB of freshly allocated
cache pages; on a virtual machine whose memory was never touched (a new
cloud instance, a CI runner) that allocation, not the disk, is most of the
time: 2.6 s per GiB measured on our CI machines, against 0.35 s for the same
bytes written directly. Direct writes also leave the user's working set in
the page cache instead of evicting it for bytes that are rarely read back
soon. Direct I/O asks for page-aligned memory and block-aligned offsets and
lengths, which the writers (:mod:`._streaming_pack`, :mod:`._buffer_pack`)
provide; a write refused for direct I/O, and a filesystem that refuses it
altogether, get ordinary writes.

:meth:`PackFile.store` renames the pack into place and then writes its
index, so its contents are stored before the caller writes anything naming
them (a manifest); after an error :meth:`PackFile.abort` leaves nothing
behind. Local stores only (``LocalBackend``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets

from loopml.objects._fs import TEMP_PREFIX, LocalBackend, storage_errors
from loopml.objects._packs import PackIndex, encode_index, index_key, pack_key

BLOCK = 4096
"""Direct writes are padded to this (the largest logical block size in common use)."""

_O_DIRECT: int = getattr(os, "O_DIRECT", 0)


class PackFile:
    """The temporary file of a new pack in a local store, and its fate: stored or dropped."""

    def __init__(self, backend: LocalBackend, index: PackIndex) -> None:
        self._backend = backend
        self._index = index
        self._name = secrets.token_hex(16)
        self._path = backend.location(pack_key(self._name))
        directory = os.path.dirname(self._path)
        self.tmp = os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        with storage_errors(f"creating {self.tmp}", writing=True):
            os.makedirs(directory, exist_ok=True)
            self._fd = _create(self.tmp)

    def write_at(self, data: memoryview, offset: int) -> None:
        """Write all of ``data`` at ``offset``: directly if aligned, else through the cache."""
        with storage_errors(f"writing {self.tmp}", writing=True):
            while data:
                try:
                    written = os.pwrite(self._fd, data, offset)
                except OSError as exc:
                    if exc.errno != errno.EINVAL or not _drop_direct(self._fd):
                        raise
                    continue  # the filesystem took the flag but not this write: use the cache
                data, offset = data[written:], offset + written

    def store(self, entries: dict[str, tuple[int, int]]) -> None:
        """Cut the file after its last content, move it into place and write its index.

        ``entries``: id -> (offset, length) of every content written. Nothing
        is stored if there is none. Call once every write has returned.
        """
        try:
            if entries:
                end = max(offset + length for offset, length in entries.values())
                with storage_errors(f"writing {self.tmp}", writing=True):
                    os.ftruncate(self._fd, end)  # cut the padding of the last block
        except BaseException:
            self.abort()
            raise
        self._close()
        if not entries:
            _remove_quietly(self.tmp)
            return
        with storage_errors(f"storing {self._path}", writing=True):
            os.replace(self.tmp, self._path)
        rows = [(object_id, start, length) for object_id, (start, length) in entries.items()]
        self._backend.write_bytes(index_key(self._name), encode_index(rows))
        self._index.add(self._name, rows)

    def abort(self) -> None:
        """Drop the temporary file (after an error: nothing names its contents)."""
        self._close()
        _remove_quietly(self.tmp)

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def padded(length: int) -> int:
    """``length`` rounded up to a whole number of blocks."""
    return -(-length // BLOCK) * BLOCK


def _create(path: str) -> int:
    """Create ``path`` for writing, for direct I/O where the filesystem allows it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    if _O_DIRECT:
        try:
            return os.open(path, flags | _O_DIRECT, 0o666)
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: no direct I/O here (tmpfs)
                raise
    return os.open(path, flags, 0o666)


def _drop_direct(fd: int) -> bool:
    """Turn direct I/O off for ``fd``; False if it was not on."""
    import fcntl  # POSIX only, as is direct I/O

    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if not _O_DIRECT or not flags & _O_DIRECT:
        return False
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~_O_DIRECT)
    return True


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
