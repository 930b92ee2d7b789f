"""A large content's new chunks written into one pack straight from the buffers it was read into.

A 1 GiB file is a thousand chunks: stored loose, that is a thousand file
creations, which on ext4 after many deletions cost more than writing the
bytes. So its chunks go into one pack. Copying each chunk into a buffer of
the pack first would cost as much CPU as hashing it (memory bandwidth is
the limit on these machines: 0.2 s per GiB, like one BLAKE3 pass). Instead
the stream is read into page-aligned buffers (``mmap``) and each run of
consecutive new chunks is written from there, widened to whole blocks on
both sides so that the write is direct (:mod:`._pack_file`): the pack holds
at most a block of neighbouring bytes on either side of a run, never read,
and no chunk is copied. A fresh file is one run per buffer; a re-added file
with a small edit is one short run where the edit is.

A buffer that ends within a block (a mapped file's last bytes) has that
block written from a zero-padded copy.

A batch of chunks is handled on one thread: its chunks are hashed, those
not stored yet (in the store, or earlier in this pack) get their places in
the pack under a lock, and the runs are written outside it. Batches are
handled in parallel (:func:`loopml.objects._ingest.ingest`).
"""

from __future__ import annotations

import mmap
import threading

from loopml.objects._chunking import Batch
from loopml.objects._fs import LocalBackend
from loopml.objects._pack_file import BLOCK, PackFile, padded
from loopml.objects._packs import HasContent, PackIndex
from loopml.objects._reader import digest


class BufferPack:
    """A pack receiving the new chunks of cut batches (see the module); thread-safe."""

    def __init__(self, backend: LocalBackend, index: PackIndex, has_content: HasContent) -> None:
        self._has_content = has_content
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, int]] = {}  # id -> (offset, length) in the pack
        self._size = 0  # always whole blocks: every run starts on a block
        self._file = PackFile(backend, index)

    def put_batch(self, batch: Batch) -> list[str]:
        """Store the chunks of ``batch`` not stored yet; return the ids of all of them, in order."""
        buffer = memoryview(batch.buffer) if batch.buffer is not None else batch.data
        positions: list[int] = []
        position = batch.start
        for length in batch.lengths:
            positions.append(position)
            position += length
        ids = [digest(chunk) for chunk in batch.chunks()]
        new = [not self._has_content(i, n) for i, n in zip(ids, batch.lengths, strict=True)]
        for start, end, offset in self._place(ids, positions, batch.lengths, new, len(buffer)):
            whole = start + (end - start) // BLOCK * BLOCK
            self._file.write_at(buffer[start:whole], offset)
            if whole < end:  # the buffer ends within a block: write that block from a copy
                tail = mmap.mmap(-1, BLOCK)
                tail[: end - whole] = buffer[whole:end]
                self._file.write_at(memoryview(tail), offset + whole - start)
        return ids

    def finish(self) -> None:
        """Move the pack into place and write its index (nothing if no chunk was new).

        Call once every :meth:`put_batch` has returned.
        """
        self._file.store(self._entries)

    def abort(self) -> None:
        """Drop the temporary pack (after an error: no manifest names its chunks)."""
        self._file.abort()

    def _place(
        self,
        ids: list[str],
        positions: list[int],
        lengths: list[int],
        new: list[bool],
        limit: int,
    ) -> list[tuple[int, int, int]]:
        """Give the new chunks places; return the runs to write: (start, end) in the buffer, offset.

        A run is widened to whole blocks on both sides (up to ``limit``, the
        buffer's end), and every run starts on a block of the pack.
        """
        runs: list[tuple[int, int, int]] = []
        with self._lock:
            run: list[int] = []  # indexes of the chunks of the current run
            for index in range(len(ids) + 1):
                if index < len(ids) and new[index] and ids[index] not in self._entries:
                    self._entries[ids[index]] = (-1, lengths[index])  # placed below
                    run.append(index)
                    continue
                if not run:
                    continue
                start = positions[run[0]] // BLOCK * BLOCK
                end = min(padded(positions[run[-1]] + lengths[run[-1]]), limit)
                for member in run:
                    self._entries[ids[member]] = (
                        self._size + positions[member] - start,
                        lengths[member],
                    )
                runs.append((start, end, self._size))
                self._size += padded(end - start)
                run = []
        return runs
