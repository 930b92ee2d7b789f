"""Storing a large content: read, cut, hash and write at once, in bounded memory.

Done one step after another, storing a 1 GiB file costs the sum of reading
it, cutting it (FastCDC), hashing it twice (the whole content for its id,
each chunk for the chunk's id) and writing every chunk. Only the cutting
holds the GIL; reads, BLAKE3 and file writes release it. So the calling
thread only cuts, one buffer after another, while a thread reads the next
buffer, a thread hashes the whole content (in order) and a pool stores the
cut batches (hashes and writes their chunks): the steps overlap on every
core.

Buffers are page-aligned (``mmap``), so a pack can be written straight from
them (:mod:`._buffer_pack`), and recycled: at most ``IN_FLIGHT + 2`` are
alive, and a buffer is read into again only when every task using it has
finished. Recycling also spares the page faults of fresh allocations, a
noticeable share of the cost at these speeds.
"""

from __future__ import annotations

import mmap
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from loopml.objects._chunking import (
    Batch,
    Buffer,
    ChunkParams,
    OnRead,
    ReadInto,
    cut_buffer,
    cut_fills,
    read_fills,
)
from loopml.objects._parallel import prefetched
from loopml.objects._reader import BackgroundHasher

IN_FLIGHT = 3
"""Batches being hashed and written at once, beside one being cut and one being read."""

PutChunk = Callable[[memoryview], str]
PutBatch = Callable[[Batch], list[str]]
"""Stores the chunks of a batch (thread-safe); returns their ids, in order."""


@dataclass(frozen=True)
class Ingested:
    """What a stream turned out to hold: its id, size and chunks (id, size) in order."""

    id: str
    size: int
    chunks: list[tuple[str, int]]


def ingest(
    readinto: ReadInto, head: bytes | memoryview, params: ChunkParams, put_batch: PutBatch
) -> Ingested:
    """Cut the stream (``head``, then ``readinto`` until it returns 0) and store its chunks.

    ``put_batch`` stores the chunks of one cut buffer and returns their ids;
    up to ``IN_FLIGHT`` calls run at once, on other threads. The first error
    (of reading or of a ``put_batch``, in content order) is raised once the
    running tasks have stopped; chunks already stored stay stored (they are
    valid objects, and a retry skips them).
    """
    in_flight: _InFlight = deque()

    def allocate(size: int) -> Buffer:
        # Never the newest batch: its last chunk is copied into the next buffer.
        if len(in_flight) >= IN_FLIGHT:
            buffer = _retire_oldest(in_flight)
            if buffer is not None and len(buffer) >= size:
                return buffer
        return mmap.mmap(-1, size)  # page-aligned, as direct writes from it need

    def batches() -> Generator[Batch, None, None]:
        with prefetched(read_fills(readinto, params, allocate)) as fills:
            yield from cut_fills(fills, head, params)

    return _store_batches(batches(), put_batch, in_flight)


def ingest_buffer(
    buffer: Buffer, params: ChunkParams, put_batch: PutBatch, on_cut: OnRead | None = None
) -> Ingested:
    """Cut a content held whole in ``buffer`` (a mapped file) and store its chunks.

    As :func:`ingest`, without reading or copying: the batches are views into
    ``buffer``. ``on_cut`` is told the size of each part as it is cut (progress).
    """
    in_flight: _InFlight = deque()

    def batches() -> Generator[Batch, None, None]:
        for batch in cut_buffer(buffer, params):
            while len(in_flight) >= IN_FLIGHT:  # cut no further ahead of the writes
                _retire_oldest(in_flight)
            if on_cut is not None:
                on_cut(len(batch.fresh))
            yield batch

    return _store_batches(batches(), put_batch, in_flight)


_InFlight = deque[tuple["Buffer | None", list[Future[Any]]]]
"""Batches being hashed and stored, oldest first: their buffer and their tasks."""


def _retire_oldest(in_flight: _InFlight) -> Buffer | None:
    """Wait for the oldest batch in flight; its buffer, free again."""
    buffer, futures = in_flight.popleft()
    for future in futures:
        future.result()
    return buffer


def _store_batches(
    batches: Generator[Batch, None, None], put_batch: PutBatch, in_flight: _InFlight
) -> Ingested:
    """Hash the whole content and store every batch; ``in_flight`` lists the batches running.

    ``batches`` is closed however this ends, so a reader behind it stops at once.
    """
    sizes: list[int] = []
    batch_futures: list[Future[list[str]]] = []
    with (
        BackgroundHasher(behind=IN_FLIGHT) as whole,
        ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="loopml-chunks") as workers,
    ):
        try:
            for batch in batches:
                sizes.extend(batch.lengths)
                hashed = whole.update(batch.fresh)
                stored = workers.submit(put_batch, batch)
                batch_futures.append(stored)
                in_flight.append((batch.buffer, [hashed, stored]))
            chunk_ids = [chunk_id for future in batch_futures for chunk_id in future.result()]
        except BaseException:
            for future in batch_futures:
                future.cancel()
            raise
        finally:
            batches.close()
        object_id = whole.hexdigest()
    return Ingested(object_id, sum(sizes), list(zip(chunk_ids, sizes, strict=True)))


def chunk_by_chunk(put_chunk: PutChunk, pool: Executor) -> PutBatch:
    """A :data:`PutBatch` storing each chunk with ``put_chunk``, in parallel on ``pool``.

    For stores whose writes are one request per chunk (a remote): many
    requests in flight hide their latency.
    """

    def put_batch(batch: Batch) -> list[str]:
        return list(pool.map(put_chunk, batch.chunks()))

    return put_batch
