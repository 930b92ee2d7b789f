"""Ordered, bounded parallel map: keeps a few requests in flight, in content order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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
