"""Bounded parallelism: an ordered map with a few calls in flight, and a read-ahead thread."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from queue import Empty, Queue
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CPU_THREADS = max(2, min(4, os.cpu_count() or 1))
"""Workers for CPU-bound steps (hashing, local file I/O, which release the GIL): one per core."""


def worker_threads(io_threads: int) -> int:
    """Threads for per-chunk work on a backend that wants ``io_threads`` requests in flight."""
    return max(io_threads, CPU_THREADS)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, threads: int) -> Iterator[R]:
    """``map(fn, items)`` with up to ``threads`` calls running ahead of the consumer.

    ``items`` is drawn in the calling thread, so at most ``2 * threads`` items
    are alive at once: memory stays bounded however long ``items`` is. The
    first exception raised by ``fn`` is re-raised in content order.
    """
    if threads <= 1:
        yield from map(fn, items)
        return
    window = 2 * threads
    with ThreadPoolExecutor(threads, thread_name_prefix="loopml-objects") as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


@contextmanager
def prefetched(items: Iterator[T], *, ahead: int = 1) -> Iterator[Iterator[T]]:
    """``items``, drawn on a thread of its own up to ``ahead`` items before they are asked for.

    Reading the next buffer of a file (which releases the GIL) then overlaps
    with whatever the caller does with the current one. An exception raised
    by ``items`` is re-raised where that item would have been; leaving the
    ``with`` block early stops the thread once its current item is drawn.
    """
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                queue.put((False, item))
                if stop.is_set():
                    return
            queue.put((True, None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put((True, exc))

    def consume() -> Iterator[T]:
        while True:
            done, value = queue.get()
            if done:
                if value is not None:
                    raise value
                return
            yield value

    thread = threading.Thread(target=produce, name="loopml-read", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting to hand over an item
            with suppress(Empty):
                queue.get(timeout=0.05)
        thread.join()
