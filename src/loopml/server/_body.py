"""A request body as a blocking binary stream, for the worker threads that store it.

Uploads are stored by the object store, which reads with blocking calls from
a thread pool (and, for large contents, from its own read-ahead thread), while
the body arrives on the event loop. Each read hops back to the loop with the
loop's token, captured when the reader is made (on the loop), so any thread
may read, not only the AnyIO worker that started the upload.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

from anyio import from_thread, lowlevel


class RequestBody(io.RawIOBase):
    """``request.stream()`` read as a file; make it on the event loop, read it anywhere."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._token = lowlevel.current_token()
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    async def _next(self) -> bytes | None:
        return await anext(self._chunks, None)

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            chunk = from_thread.run(self._next, token=self._token)
            self._done = chunk is None
            self._pending = chunk or b""
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
