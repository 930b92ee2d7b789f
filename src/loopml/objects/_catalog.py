"""Which objects a store holds, answered cheaply for thousands of ids at once.

A local store answers with one ``stat`` per object: microseconds. A remote
one would need a HEAD request per object, so past a few dozen look-ups the
catalog lists the shards the ids fall in instead (``blobs/ab/``: one request
per thousand objects, at most 256 shards per kind) and answers every later
question about those shards from the listing. It lists one shard first to
see how full they are: on a remote holding millions of objects, a few
hundred HEAD requests are cheaper than listing it all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TypeVar

from loopml.core.errors import CorruptObject, NotFound, StorageError
from loopml.objects._fs import Backend, LocalBackend
from loopml.objects._layout import Kind, id_from_key, key_for
from loopml.objects._parallel import ordered_map

LIST_ABOVE = 32
"""With more look-ups than this on a remote store, listing shards may beat one HEAD each."""

LIST_PAGE = 1000
"""Keys one listing request returns (S3's page size)."""

T = TypeVar("T")
R = TypeVar("R")


def store_hint(uri: str, backend: Backend) -> str:
    """What to check when a store cannot be used, for the error message."""
    if isinstance(backend, LocalBackend):
        return f"Check that {uri} exists, is writable and that its disk has space."
    return (
        f"Check the URL {uri}, that the bucket exists, that the credentials and endpoint "
        "options are right and that the network reaches it."
    )


@contextmanager
def store_errors(uri: str, backend: Backend, action: str) -> Iterator[None]:
    """Re-raise a storage failure naming the store, the action and what to check.

    Corruption is reported as it is: it names the object, and the remedy is
    not about reaching the store.
    """
    try:
        yield
    except CorruptObject:
        raise
    except StorageError as exc:
        raise StorageError(
            f"{action} {uri} failed: {exc.message}. {store_hint(uri, backend)}"
        ) from exc


class Catalog:
    """Stored sizes of objects in one backend; safe to query from one thread at a time."""

    def __init__(self, backend: Backend, *, jobs: int) -> None:
        self._backend = backend
        self._jobs = max(1, jobs)
        self._local = isinstance(backend, LocalBackend)
        self._listed: dict[tuple[Kind, str], dict[str, int]] = {}

    def probe(self) -> None:
        """Fail now, with one cheap request, if a remote store cannot be reached at all."""
        if self._local:
            return
        try:
            self._list_shard(Kind.TREE, "00")
        except NotFound as exc:
            raise StorageError(f"the location does not exist ({exc.message})") from exc

    def sizes(self, kind: Kind, ids: Collection[str]) -> dict[str, int]:
        """The stored size of each of ``ids`` that is present as a ``kind``."""
        if not self._local and len(ids) > LIST_ABOVE:
            self._list_if_cheaper(kind, ids)
        found: dict[str, int] = {}
        ask: list[str] = []
        for object_id in ids:
            known = self._listed.get((kind, object_id[:2]))
            if known is None:
                ask.append(object_id)
            elif object_id in known:
                found[object_id] = known[object_id]
        answers = self._map(lambda object_id: self._backend.size(key_for(kind, object_id)), ask)
        for object_id, size in zip(ask, answers, strict=True):
            if size is not None:
                found[object_id] = size
        return found

    def _list_if_cheaper(self, kind: Kind, ids: Collection[str]) -> None:
        """List the shards ``ids`` fall in, unless one request per id costs less.

        One shard is listed first to learn how full shards are (a remote
        holding millions of objects has shards of many pages each).
        """
        by_shard: dict[str, int] = {}
        for object_id in ids:
            if (kind, object_id[:2]) not in self._listed:
                by_shard[object_id[:2]] = by_shard.get(object_id[:2], 0) + 1
        if not by_shard:
            return
        first = max(by_shard, key=by_shard.__getitem__)
        self._listed[(kind, first)] = sample = self._list_shard(kind, first)
        del by_shard[first]
        pages = 1 + len(sample) // LIST_PAGE
        if sum(by_shard.values()) > pages * len(by_shard):
            shards = sorted(by_shard)
            listings = self._map(partial(self._list_shard, kind), shards)
            self._listed.update(((kind, s), lst) for s, lst in zip(shards, listings, strict=True))

    def _list_shard(self, kind: Kind, shard: str) -> dict[str, int]:
        listing: dict[str, int] = {}
        for entry in self._backend.list(f"{kind.value}/{shard}"):
            object_id = id_from_key(kind, entry.key)
            if object_id is not None:
                listing[object_id] = entry.size
        return listing

    def _map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        # A local store answers in microseconds: threads would only add overhead.
        return list(ordered_map(fn, items, threads=1 if self._local else self._jobs))
