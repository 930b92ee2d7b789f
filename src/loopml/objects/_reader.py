"""Reading stored objects back, verifying every byte against its id.

Plain blobs are hashed as they stream and checked at end of file; chunked
contents are checked chunk by chunk before any of a chunk's bytes are handed
out, and the whole content is checked against its id at the end (which also
proves the manifest right).
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import blake3

from loopml.core.errors import CorruptObject, LoopmlError, NotFound
from loopml.objects._chunking import Manifest
from loopml.objects._fs import IO_BLOCK, Backend, GuardedFile
from loopml.objects._layout import Kind, key_for
from loopml.objects._parallel import ordered_map, worker_threads

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
    """A single-threaded BLAKE3 hasher.

    The object store already hashes on several threads at once (chunks in a
    pool, the whole content beside them); BLAKE3's own worker threads would
    compete with those for the same cores and, measured on two cores, cost
    more CPU time than they save.
    """
    return blake3.blake3()


def digest(data: bytes | memoryview) -> str:
    """Hex BLAKE3 of ``data``, single-threaded (see :func:`new_hasher`)."""
    return str(blake3.blake3(data).hexdigest())


class BackgroundHasher:
    """Hashes the blocks handed to it, in order, on a thread of its own.

    The caller goes on (writing, cutting) while BLAKE3 runs beside it with
    the GIL released. At most ``behind`` blocks wait to be hashed; each is
    kept alive (and must not change) until its update has run.
    """

    def __init__(self, behind: int = 8) -> None:
        self._hasher = new_hasher()
        self._behind = behind
        self._pending: deque[Future[None]] = deque()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="loopml-hash")

    def update(self, data: bytes | memoryview) -> Future[None]:
        """Queue ``data``; the future completes once it is hashed."""
        future = self._pool.submit(self._hasher.update, data)
        self._pending.append(future)
        while len(self._pending) > self._behind:
            self._pending.popleft().result()
        return future

    def hexdigest(self) -> str:
        """The digest of everything queued so far (waits for it)."""
        return str(self._pool.submit(self._hasher.hexdigest).result())

    def __enter__(self) -> BackgroundHasher:
        return self

    def __exit__(self, *exc: object) -> None:
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)


def read_verified(backend: Backend, kind: Kind, object_id: str) -> bytes:
    """The whole stored content of ``object_id`` as a ``kind``, hash-checked."""
    key = key_for(kind, object_id)
    data = backend.read_bytes(key)
    if digest(data) != object_id:
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


def chunked_blocks(
    backend: Backend,
    object_id: str,
    manifest: Manifest,
    packed: Callable[[str], bytes | None] | None = None,
) -> Iterator[bytes]:
    """The verified chunks of a chunked content, fetched a few ahead, in order.

    A chunk that is not stored on its own is looked for with ``packed`` (the
    store's verified read of a packed content), if given.
    """

    def fetch(chunk: tuple[str, int]) -> bytes:
        chunk_id, size = chunk
        key = key_for(Kind.BLOB, chunk_id)
        try:
            data = backend.read_bytes(key)
        except NotFound as exc:
            found = packed(chunk_id) if packed is not None else None
            if found is not None and len(found) == size:
                return found
            raise CorruptObject(
                f"object {object_id} is incomplete: its chunk {chunk_id} is missing from "
                f"{backend.location(key)}. Restore the object from a remote copy or put "
                "the original content again."
            ) from exc
        if len(data) != size or digest(data) != chunk_id:
            raise corrupt(chunk_id, backend.location(key), chunk_of=object_id)
        return data

    threads = worker_threads(backend.io_threads)
    with BackgroundHasher() as whole:
        for data in ordered_map(fetch, manifest.chunks, threads=threads):
            whole.update(data)
            yield data
        content_id = whole.hexdigest()
    if content_id != object_id:
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
