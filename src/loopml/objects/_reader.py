"""Reading stored objects back, verifying every byte against its id.

Plain blobs are hashed as they stream and checked at end of file; chunked
contents are checked chunk by chunk before any of a chunk's bytes are handed
out, and the whole content is checked against its id at the end (which also
proves the manifest right).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import blake3

from loopml.core.errors import CorruptObject, LoopmlError, NotFound
from loopml.core.hashing import hash_bytes
from loopml.objects._chunking import Manifest
from loopml.objects._fs import IO_BLOCK, Backend, GuardedFile
from loopml.objects._layout import Kind, key_for
from loopml.objects._parallel import ordered_map

_REMEDY = (
    "Putting the same content again will not overwrite it and `loopml gc` will not "
    "repair it: delete that file, then restore the object from a remote copy or put "
    "the original content again."
)


def corrupt(object_id: str, location: str, *, chunk_of: str | None = None) -> CorruptObject:
    """The error for bytes at ``location`` that do not hash to ``object_id``."""
    what = f"chunk {object_id} of object {chunk_of}" if chunk_of else f"object {object_id}"
    return CorruptObject(
        f"{what} is corrupt: the bytes stored at {location} do not match their "
        f"BLAKE3 hash. {_REMEDY}"
    )


def new_hasher() -> Any:
    """A BLAKE3 hasher that uses every core for large updates."""
    return blake3.blake3(max_threads=blake3.blake3.AUTO)


def read_verified(backend: Backend, kind: Kind, object_id: str) -> bytes:
    """The whole stored content of ``object_id`` as a ``kind``, hash-checked."""
    key = key_for(kind, object_id)
    data = backend.read_bytes(key)
    if hash_bytes(data) != object_id:
        raise corrupt(object_id, backend.location(key))
    return data


def blob_blocks(backend: Backend, object_id: str, kind: Kind = Kind.BLOB) -> Iterator[bytes]:
    """Blocks of a plain stored object; NotFound now if absent, CorruptObject at the end."""
    key = key_for(kind, object_id)
    return _stream_verified(backend.open_read(key), object_id, backend.location(key))


def _stream_verified(source: GuardedFile, object_id: str, location: str) -> Iterator[bytes]:
    hasher = new_hasher()
    with source:
        while block := source.read(IO_BLOCK):
            hasher.update(block)
            yield block
    if hasher.hexdigest() != object_id:
        raise corrupt(object_id, location)


def chunked_blocks(backend: Backend, object_id: str, manifest: Manifest) -> Iterator[bytes]:
    """The verified chunks of a chunked content, fetched a few ahead, in order."""

    def fetch(chunk: tuple[str, int]) -> bytes:
        chunk_id, size = chunk
        key = key_for(Kind.BLOB, chunk_id)
        try:
            data = backend.read_bytes(key)
        except NotFound as exc:
            raise CorruptObject(
                f"object {object_id} is incomplete: its chunk {chunk_id} is missing from "
                f"{backend.location(key)}. Restore the object from a remote copy or put "
                "the original content again."
            ) from exc
        if len(data) != size or hash_bytes(data) != chunk_id:
            raise corrupt(chunk_id, backend.location(key), chunk_of=object_id)
        return data

    hasher = new_hasher()
    for data in ordered_map(fetch, manifest.chunks, threads=backend.io_threads):
        hasher.update(data)
        yield data
    if hasher.hexdigest() != object_id:
        raise corrupt(object_id, backend.location(key_for(Kind.MANIFEST, object_id)))


class BlockReader(io.RawIOBase):
    """A raw binary stream over verified blocks; a verification failure is sticky."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._current = memoryview(b"")
        self._error: LoopmlError | None = None

    def readable(self) -> bool:
        return True

    def _next_block(self) -> bool:
        if self._error is not None:
            raise self._error
        try:
            block = next(self._blocks, None)
        except LoopmlError as exc:
            self._error = exc
            raise
        if block is None:
            return False
        self._current = memoryview(block)
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._current:
            if not self._next_block():
                return 0
        n = min(len(buffer), len(self._current))
        buffer[:n] = self._current[:n]
        self._current = self._current[n:]
        return n

    def readall(self) -> bytes:
        parts = [self._current]
        while self._next_block():
            parts.append(self._current)
        self._current = memoryview(b"")
        return b"".join(parts)

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._blocks, "close", None)
            if close is not None:
                close()
        super().close()
