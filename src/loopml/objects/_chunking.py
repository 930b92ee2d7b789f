"""Content-defined chunking (FastCDC) over buffers and streams in bounded memory.

A cut point depends only on the bytes from the start of its chunk up to at
most ``max_size`` further, so a stream can be chunked one buffer at a time:
every chunk in a buffer except the last is final; the last may have been cut
short by the end of the buffer and is carried into the next one. The result
is identical to chunking the whole content at once (a property test checks
this), which is what makes an edit in the middle of a file cost only the
chunks around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from fastcdc import fastcdc

from loopml.core.errors import InvalidArgument

ReadInto = Callable[[memoryview], int]


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
