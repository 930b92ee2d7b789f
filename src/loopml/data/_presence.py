"""Is every content a pointer needs in the cache? Answered with a few hundred stats, not 10,000.

A blob lives at ``blobs/ab/cdef...``; deleting one changes the modification
time of its shard folder ``blobs/ab``. So once every blob of a tracked path
has been seen present, remembering the shard folders' mtimes is enough: while
a shard's mtime is unchanged, nothing was deleted from it. Only the ids of
shards that changed (or whose mtime is too recent to trust, see ``RACY_NS``)
are looked up one by one. Contents stored chunked (manifests) and trees are
always looked up. Only the local layout is read (``blobs/``, ``trees/``,
``manifests/``, sharded by the id's first two hex digits): the object store
itself is not even imported.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable

from loopml.data._index import RACY_NS
from loopml.data._repo import DataRepo

_KEY = "present:"


def missing_from_cache(repo: DataRepo, path: str, pointer_id: str, ids: Iterable[str]) -> list[str]:
    """The ``ids`` (needed by the pointer ``pointer_id`` of ``path``) the cache lacks, sorted."""
    root = repo.cache_root
    blobs = os.path.join(root, "blobs")
    shards: dict[str, list[str]] = {}
    for object_id in ids:
        shards.setdefault(object_id[:2], []).append(object_id)
    key = _KEY + path
    saved_at, saved_shards = _load(repo.index.get_meta(key), pointer_id)
    started = time.time_ns()
    trusted_before = saved_at - RACY_NS
    fresh: dict[str, int] = {}
    learned = False  # a shard newly seen whole: remember it
    missing: list[str] = []
    for shard, members in shards.items():
        try:
            mtime = os.stat(os.path.join(blobs, shard)).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime is not None and saved_shards.get(shard) == mtime and mtime < trusted_before:
            fresh[shard] = mtime
            continue
        all_blobs = True
        for object_id in members:
            if os.path.exists(os.path.join(blobs, shard, object_id[2:])):
                continue
            all_blobs = False
            if not any(
                os.path.exists(os.path.join(root, kind, shard, object_id[2:]))
                for kind in ("trees", "manifests")
            ):
                missing.append(object_id)
        if all_blobs and mtime is not None:
            fresh[shard] = mtime
            learned = True
    if learned or fresh != saved_shards:
        memo = {"id": pointer_id, "at": started, "shards": fresh}
        repo.index.set_meta(key, json.dumps(memo, separators=(",", ":")))
    return sorted(missing)


def _load(raw: str | None, pointer_id: str) -> tuple[int, dict[str, int]]:
    """(when, shard mtimes) remembered for ``pointer_id``; nothing for another pointer."""
    if raw is not None:
        try:
            saved = json.loads(raw)
        except ValueError:
            saved = None
        if isinstance(saved, dict) and saved.get("id") == pointer_id:
            return int(saved["at"]), {str(k): int(v) for k, v in saved["shards"].items()}
    return 0, {}
