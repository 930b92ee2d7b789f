"""The packer: small contents collected in memory and written as packs.

See :mod:`loopml.objects._packs` for what a pack is. Into a local store a
pack is written by :class:`~loopml.objects._streaming_pack.StreamingPack`,
in direct-I/O segments (see there why); into a remote one as one object.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable

from loopml.core.errors import LoopmlError
from loopml.objects._fs import Backend, LocalBackend
from loopml.objects._packs import (
    MIN_PACKED,
    PACK_TARGET,
    HasContent,
    PackIndex,
    encode_index,
    index_key,
    pack_key,
)
from loopml.objects._streaming_pack import StreamingPack


class Packer:
    """Collects small contents into packs; use as a context manager (the end writes the rest).

    Thread-safe. A content is visible in the store only once its pack is
    written: the caller must not record its id anywhere durable before the
    packer has closed. Contents already stored (loose or packed) are skipped.
    """

    def __init__(
        self,
        backend: Backend,
        index: PackIndex,
        has_content: HasContent,
        blob_key: Callable[[str], str],
    ) -> None:
        self._backend = backend
        self._blob_key = blob_key
        self._index = index
        self._has_content = has_content
        self._lock = threading.Lock()
        self._parts: list[bytes] = []
        self._entries: dict[str, tuple[int, int]] = {}
        self._size = 0

    def __enter__(self) -> Packer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.flush(last=True)
            return
        with contextlib.suppress(LoopmlError):  # the original error says more
            self.flush(last=True)  # keep what was read: a re-run then skips it

    def put(self, object_id: str, data: bytes) -> None:
        """Add the content ``data`` (whose id the caller computed) unless it is stored."""
        if self._has_content(object_id, len(data)):
            return
        with self._lock:
            if object_id in self._entries:
                return
            self._entries[object_id] = (self._size, len(data))
            self._parts.append(data)
            self._size += len(data)
            full = self._size >= PACK_TARGET
        if full:
            self.flush()

    def flush(self, *, last: bool = False) -> None:
        """Write the pack collected so far (nothing if it is empty).

        The ``last`` one, if it holds fewer than :data:`MIN_PACKED` contents,
        is written as blobs of their own instead.
        """
        with self._lock:
            parts, entries = self._parts, self._entries
            self._parts, self._entries, self._size = [], {}, 0
        if not entries:
            return
        if last and len(entries) < MIN_PACKED:
            for object_id, data in zip(entries, parts, strict=True):
                self._backend.write_bytes(self._blob_key(object_id), data)
            return
        if isinstance(self._backend, LocalBackend):
            self._write_local(self._backend, entries, parts)
            return
        name = secrets.token_hex(16)
        rows = [(object_id, offset, length) for object_id, (offset, length) in entries.items()]
        # One write of the joined contents: thousands of small writes cost more than the copy.
        self._backend.write_bytes(pack_key(name), b"".join(parts))
        self._backend.write_bytes(index_key(name), encode_index(rows))
        self._index.add(name, rows)

    def _write_local(
        self, backend: LocalBackend, entries: dict[str, tuple[int, int]], parts: list[bytes]
    ) -> None:
        """Write a pack into a local store through :class:`StreamingPack` (direct I/O)."""
        pack = StreamingPack(backend, self._index, _never_stored)
        try:
            for object_id, data in zip(entries, parts, strict=True):
                pack.put(object_id, memoryview(data))
            pack.finish()
        except BaseException:
            pack.abort()
            raise


def _never_stored(object_id: str, size: int) -> bool:
    """The packer checked already: every content it flushes is new."""
    return False
