"""Storing a large content: read, cut, hash and write at once, in bounded memory.

Done one step after another, storing a 1 GiB file costs the sum of reading
it, cutting it (FastCDC), hashing it twice (the whole content for its id,
each chunk for the chunk's id) and writing every chunk. Only the cutting
holds the GIL; reads, BLAKE3 and file writes release it. So the calling
thread only cuts, one buffer after another, while a thread reads the next
buffer, a thread hashes the whole content (in order) and a pool hashes and
writes chunks: the steps overlap on every core.

Buffers are recycled: at most ``IN_FLIGHT + 2`` are alive, and a buffer is
read into again only when every task using it has finished. Recycling also
spares the page faults of fresh allocations, a noticeable share of the cost
at these speeds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from loopml.objects._chunking import ChunkParams, ReadInto, cut_fills, read_fills
from loopml.objects._parallel import prefetched
from loopml.objects._reader import BackgroundHasher

IN_FLIGHT = 3
"""Batches being hashed and written at once, beside one being cut and one being read."""

PutChunk = Callable[[memoryview], str]


@dataclass(frozen=True)
class Ingested:
    """What a stream turned out to hold: its id, size and chunks (id, size) in order."""

    id: str
    size: int
    chunks: list[tuple[str, int]]


def ingest(
    readinto: ReadInto,
    head: bytes | memoryview,
    params: ChunkParams,
    put_chunk: PutChunk,
    *,
    threads: int,
) -> Ingested:
    """Cut the stream (``head``, then ``readinto`` until it returns 0) and store its chunks.

    ``put_chunk`` stores one chunk and returns its id; it is called from
    ``threads`` worker threads at once. The first error (of reading or of a
    ``put_chunk``, in content order) is raised once the running tasks have
    stopped; chunks already stored stay stored (they are valid objects, and
    a retry skips them).
    """
    sizes: list[int] = []
    chunk_futures: list[Future[str]] = []
    # Batches being hashed and written; appended by this thread, recycled by the reader.
    in_flight: deque[tuple[bytearray, list[Future[Any]]]] = deque()

    def allocate(size: int) -> bytearray:
        # Never the newest batch: its last chunk is copied into the next buffer.
        if len(in_flight) >= IN_FLIGHT:
            buffer, futures = in_flight.popleft()
            for future in futures:
                future.result()
            if len(buffer) >= size:
                return buffer
        return bytearray(size)

    with (
        BackgroundHasher(behind=IN_FLIGHT) as whole,
        ThreadPoolExecutor(threads, thread_name_prefix="loopml-chunks") as workers,
    ):
        try:
            with prefetched(read_fills(readinto, params, allocate)) as fills:
                for batch in cut_fills(fills, head, params):
                    futures: list[Future[Any]] = [whole.update(batch.fresh)]
                    for chunk in batch.chunks():
                        sizes.append(len(chunk))
                        future = workers.submit(put_chunk, chunk)
                        chunk_futures.append(future)
                        futures.append(future)
                    if batch.buffer is not None:
                        in_flight.append((batch.buffer, futures))
            chunk_ids = [future.result() for future in chunk_futures]
        except BaseException:
            for future in chunk_futures:
                future.cancel()
            raise
        object_id = whole.hexdigest()
    return Ingested(object_id, sum(sizes), list(zip(chunk_ids, sizes, strict=True)))
