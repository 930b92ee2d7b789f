"""Blob bytes as streams: chunk iterators read as files, or written to files atomically.

Downloads (of run artifacts, of model versions) arrive as verified chunk
iterators; callers want either a readable file object or a local file that
appears only once it is whole.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def write_chunks_atomically(target: Path, chunks: Iterator[bytes]) -> None:
    """Write to a temporary file beside ``target``, rename once every chunk arrived.

    An iterator that raises (a failed hash check, a lost connection) leaves
    nothing behind, and never a partial ``target``.
    """
    tmp = target.with_name(f".tmp-{secrets.token_hex(8)}")
    try:
        with open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ChunkReader(io.RawIOBase):
    """A raw reader over an iterator of chunks (wrap it in ``io.BufferedReader``).

    Errors of the iterator (a hash that fails on the last chunk) surface from
    ``read``; closing the reader closes the iterator.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        super().close()
