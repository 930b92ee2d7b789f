"""Chunked contents: how they are cut (FastCDC, in bounded memory) and how they are listed.

A cut point depends only on the bytes from the start of its chunk up to at
most ``max_size`` further, so a stream can be chunked one buffer at a time:
every chunk in a buffer except the last is final; the last may have been cut
short by the end of the buffer and is carried into the next one. The result
is identical to chunking the whole content at once (a property test checks
this), which is what makes an edit in the middle of a file cost only the
chunks around it.

A chunked content is stored as its chunks (plain blobs) plus a manifest
listing them, stored under the id of the whole content. The manifest cannot
verify itself by that id, so decoding checks its shape, and readers verify
every chunk and finally the whole content against the id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from fastcdc import fastcdc

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.core.hashing import is_hash

ReadInto = Callable[[memoryview], int]
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ChunkParams:
    """FastCDC sizes, and how much of a stream to hold while chunking it."""

    min_size: int = 256 * 1024
    avg_size: int = 1024 * 1024
    max_size: int = 4 * 1024 * 1024
    buffer_size: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 64 <= self.min_size <= self.avg_size <= self.max_size:
            raise InvalidArgument("chunk sizes must satisfy 64 <= min <= avg <= max")
        if self.avg_size < 256 or self.max_size < 1024:
            raise InvalidArgument("FastCDC needs avg >= 256 and max >= 1024 bytes")
        if self.buffer_size < 2 * self.max_size:
            raise InvalidArgument("the chunking buffer must hold at least two maximal chunks")


DEFAULT_PARAMS = ChunkParams()


def chunk_lengths(data: memoryview, params: ChunkParams = DEFAULT_PARAMS) -> list[int]:
    """Lengths of the consecutive chunks of ``data`` (empty data has none)."""
    if not len(data):
        return []
    return [
        chunk.length
        for chunk in fastcdc(data, params.min_size, params.avg_size, params.max_size, fat=False)
    ]


def split_buffer(data: memoryview, params: ChunkParams = DEFAULT_PARAMS) -> Iterator[memoryview]:
    """The chunks of an in-memory content, as zero-copy views."""
    offset = 0
    for length in chunk_lengths(data, params):
        yield data[offset : offset + length]
        offset += length


def reader_of(stream: BinaryIO) -> ReadInto:
    """A ``readinto`` for ``stream``, falling back to ``read`` plus one copy."""
    readinto: Any = getattr(stream, "readinto", None)
    if readinto is not None:
        return lambda view: int(readinto(view) or 0)

    def fallback(view: memoryview) -> int:
        data = stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    return fallback


def split_stream(
    readinto: ReadInto,
    head: bytes | memoryview = b"",
    params: ChunkParams = DEFAULT_PARAMS,
    hasher: Any = None,
) -> Iterator[memoryview]:
    """The chunks of ``head`` followed by the rest of a stream.

    Memory stays bounded: each buffer holds at most ``params.buffer_size``
    bytes (or ``head``, if larger). The views yielded keep their buffer alive
    only as long as the caller holds them. If given, ``hasher`` is updated
    with the whole content, a buffer at a time (cheaper than chunk by chunk).
    """
    carry = memoryview(head)
    if hasher is not None:
        hasher.update(carry)
    eof = False
    while True:
        buffer = bytearray(max(params.buffer_size, len(carry)))
        view = memoryview(buffer)
        filled = start = len(carry)
        view[:filled] = carry
        carry.release()
        while not eof and filled < len(view):
            n = readinto(view[filled:])
            if n:
                filled += n
            else:
                eof = True
        if hasher is not None:
            hasher.update(view[start:filled])
        data = view[:filled]
        lengths = chunk_lengths(data, params)
        if not eof:
            lengths.pop()  # may have been cut by the end of the buffer, not the content
        offset = 0
        for length in lengths:
            yield data[offset : offset + length]
            offset += length
        if eof:
            return
        carry = data[offset:]


@dataclass(frozen=True)
class Manifest:
    """Chunk ids and sizes, in content order, and the total size."""

    size: int
    chunks: tuple[tuple[str, int], ...]


def encode_manifest(manifest: Manifest) -> bytes:
    """Canonical compact JSON: the same chunks always give the same bytes."""
    body = {
        "chunks": [[chunk_id, size] for chunk_id, size in manifest.chunks],
        "size": manifest.size,
        "version": MANIFEST_VERSION,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def decode_manifest(object_id: str, data: bytes, location: str) -> Manifest:
    """Parse and check a stored manifest; CorruptObject if it is not one."""
    try:
        body: Any = json.loads(data)
        chunks = tuple((str(c), int(n)) for c, n in body["chunks"])
        size = body["size"]
        well_formed = (
            body["version"] == MANIFEST_VERSION
            and isinstance(size, int)
            and all(is_hash(c) and n > 0 for c, n in chunks)
            and sum(n for _, n in chunks) == size
        )
    except (ValueError, TypeError, KeyError):
        well_formed = False
    if not well_formed:
        raise CorruptObject(
            f"object {object_id} is corrupt: its chunk manifest at {location} is not valid. "
            "`loopml gc` will not repair it; delete that file and restore the object "
            "from a remote copy, or put the original content again."
        )
    return Manifest(size=size, chunks=chunks)
