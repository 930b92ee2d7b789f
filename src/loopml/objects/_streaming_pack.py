"""Many small contents copied into one pack by many threads at once.

Each content gets its place in the pack under a lock and is copied into
that place in a segment buffer outside it, so worker threads fill the pack
in parallel. A full segment is written at once, by one of two threads of
its own, so the threads copying contents never wait for the disk. Segments
are page-aligned, recycled buffers, which is what direct I/O asks for
(:mod:`._pack_file` says why packs are written directly).

:meth:`StreamingPack.finish` stores the pack and its index, so its contents
are stored before the caller writes anything naming them; after an error
:meth:`StreamingPack.abort` leaves nothing behind. Local stores only
(``LocalBackend``). Large contents read into aligned buffers go into packs
without this copy (:mod:`._buffer_pack`).
"""

from __future__ import annotations

import contextlib
import mmap
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from loopml.objects._fs import LocalBackend
from loopml.objects._pack_file import PackFile, padded
from loopml.objects._packs import HasContent, PackIndex

SEGMENT = 8 * 1024 * 1024
"""Bytes of the pack written at once; a multiple of any block size direct I/O asks for."""
SEGMENTS = 6
"""Segment buffers alive at once: bounds memory to ``SEGMENTS * SEGMENT``."""
WRITERS = 2
"""Threads writing full segments, so that the threads filling them never wait for the disk."""


class StreamingPack:
    """A pack filled by many threads at once, one segment buffer at a time (see the module)."""

    def __init__(self, backend: LocalBackend, index: PackIndex, has_content: HasContent) -> None:
        self._has_content = has_content
        self._cond = threading.Condition()
        self._entries: dict[str, tuple[int, int]] = {}
        self._size = 0
        self._open: dict[int, _Segment] = {}  # segment number -> its buffer, being filled
        self._free: list[mmap.mmap] = []
        self._allocated = 0
        self._error: BaseException | None = None
        self._writers: ThreadPoolExecutor | None = None  # started at the first full segment
        self._writes: list[Future[None]] = []
        self.file = PackFile(backend, index)

    def put(self, object_id: str, data: memoryview) -> None:
        """Copy ``data`` into the pack unless it is stored already (thread-safe)."""
        if not len(data) or self._has_content(object_id, len(data)):
            return
        with self._cond:
            while True:  # the place is taken only once its segments have buffers
                self._raise_if_failed()
                if object_id in self._entries:
                    return
                offset = self._size
                first, last = offset // SEGMENT, (offset + len(data) - 1) // SEGMENT
                if self._can_open(first, last):
                    break
                self._cond.wait()  # others may take places meanwhile: look again after
            segments = [self._segment(number) for number in range(first, last + 1)]
            self._entries[object_id] = (offset, len(data))
            self._size += len(data)
        done: list[_Segment] = []
        for segment in segments:
            start = max(offset, segment.offset)
            end = min(offset + len(data), segment.offset + SEGMENT)
            piece = data[start - offset : end - offset]
            segment.buffer[start - segment.offset : end - segment.offset] = piece
            with self._cond:
                segment.filled += len(piece)
                if segment.filled == SEGMENT:
                    del self._open[segment.number]
                    done.append(segment)
        if done:
            with self._cond:
                if self._writers is None:
                    self._writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="loopml-pack")
                for segment in done:
                    self._writes.append(self._writers.submit(self._write, segment, SEGMENT))

    def finish(self) -> None:
        """Write the last segment, move the pack into place and write its index.

        Nothing is stored if no content was new. Call once every :meth:`put`
        has returned.
        """
        try:
            wait(self._writes)  # a failed write is recorded in self._error
            self._raise_if_failed()
            for segment in list(self._open.values()):  # only the last one can be left
                self._open.pop(segment.number)
                self._write(segment, segment.filled)
            self._raise_if_failed()
        except BaseException:
            self.abort()
            raise
        self._close()
        self.file.store(self._entries)

    def abort(self) -> None:
        """Drop the temporary pack (after an error: nothing names its contents)."""
        self._close()
        self.file.abort()

    def _can_open(self, first: int, last: int) -> bool:
        """Whether segments ``first..last`` have buffers or can get them now (locked)."""
        wanted = sum(1 for number in range(first, last + 1) if number not in self._open)
        return wanted <= len(self._free) + SEGMENTS - self._allocated

    def _segment(self, number: int) -> _Segment:
        """The buffer of segment ``number``, taken from the free ones if it is new (locked)."""
        segment = self._open.get(number)
        if segment is None:
            if self._free:
                buffer = self._free.pop()
            else:
                buffer = mmap.mmap(-1, SEGMENT)  # page-aligned, as direct I/O needs
                self._allocated += 1
            segment = self._open[number] = _Segment(number, buffer)
        return segment

    def _write(self, segment: _Segment, length: int) -> None:
        """Write the first ``length`` bytes of ``segment`` at its place, then free its buffer."""
        try:
            self.file.write_at(memoryview(segment.buffer)[: padded(length)], segment.offset)
        except BaseException as exc:
            with self._cond:
                self._error = self._error or exc
            raise
        finally:
            with self._cond:
                self._free.append(segment.buffer)
                self._cond.notify_all()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _close(self) -> None:
        if self._writers is not None:  # no write may outlive the file descriptor
            self._writers.shutdown(wait=True, cancel_futures=True)
            self._writers = None
        for segment in self._open.values():
            self._free.append(segment.buffer)
        self._open.clear()
        for buffer in self._free:
            with contextlib.suppress(BufferError):  # a view kept by a traceback: left to the GC
                buffer.close()
        self._free.clear()


class _Segment:
    """``SEGMENT`` bytes of the pack at ``number * SEGMENT``, and how many are copied in."""

    __slots__ = ("buffer", "filled", "number", "offset")

    def __init__(self, number: int, buffer: mmap.mmap) -> None:
        self.number = number
        self.offset = number * SEGMENT
        self.buffer = buffer
        self.filled = 0
