"""Blob downloads as streamed answers, shared by artifacts, model versions and segments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from fastapi.responses import StreamingResponse

READ_SIZE = 1024 * 1024


def blob_response(reader: BinaryIO, size: int, blob_id: str) -> StreamingResponse:
    """Stream ``reader`` (closed at the end) with its length and its blob id as ETag.

    The first block is read before the answer starts: damage found there (all
    of a small file) is a proper DATA_LOSS error, not a connection cut mid-body.
    """
    try:
        first = reader.read(READ_SIZE)
    except BaseException:
        reader.close()
        raise
    return StreamingResponse(
        _blocks(first, reader),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size), "ETag": f'"{blob_id}"'},
    )


def _blocks(first: bytes, reader: BinaryIO) -> Iterator[bytes]:
    try:
        yield first
        while block := reader.read(READ_SIZE):
            yield block
    finally:
        reader.close()
