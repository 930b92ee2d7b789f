"""Is every content a pointer needs in the cache? Answered with a few hundred stats, not 10,000.

A blob lives at ``blobs/ab/cdef...`` or inside a pack (``packs/``); deleting
a blob changes the modification time of its shard folder ``blobs/ab``, and
deleting or rewriting a pack's index that of ``packs/``. So once every
content of a tracked path has been seen present, remembering those folders'
mtimes is enough: while a shard's mtime and that of ``packs/`` are unchanged,
nothing was deleted from them. Only the ids of shards that changed (or whose
mtime is too recent to trust, see ``RACY_NS``) are looked up one by one (the
pack indexes are read once, if any is needed). Contents stored chunked
(manifests) and trees are always looked up (the memo names them). Only the local layout is read:
the object store itself is not even opened.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    saved = _load(repo.index.get_meta(key), pointer_id)
    started = time.time_ns()
    trusted_before = saved.at - RACY_NS
    packs = _mtime(os.path.join(root, "packs"))
    packs_trusted = packs == saved.packs and packs < trusted_before
    packed: set[str] | None = None  # read on first need
    fresh: dict[str, int] = {}
    structural: list[str] = []  # trees and chunked contents: looked up every time
    learned = False  # a shard newly seen whole: remember it
    missing: list[str] = []

    def elsewhere(object_id: str) -> bool:
        return any(
            os.path.exists(os.path.join(root, kind, object_id[:2], object_id[2:]))
            for kind in ("trees", "manifests")
        )

    for shard, members in shards.items():
        mtime = _mtime(os.path.join(blobs, shard))
        if packs_trusted and saved.shards.get(shard) == mtime and mtime < trusted_before:
            fresh[shard] = mtime
            for object_id in members:
                if object_id in saved.structural:
                    structural.append(object_id)
                    if not elsewhere(object_id):
                        missing.append(object_id)
            continue
        if packed is None:
            packed = _packed_ids(root, packs)
        present = True
        for object_id in members:
            # Packed first: after an `add` of many small files nearly every content is
            # packed, and a set look-up spares three stats per content.
            if object_id in packed or os.path.exists(os.path.join(blobs, shard, object_id[2:])):
                continue
            if elsewhere(object_id):
                structural.append(object_id)
                continue
            present = False
            missing.append(object_id)
        if present:
            fresh[shard] = mtime
            learned = True
    if learned or fresh != saved.shards or packs != saved.packs:
        memo = {
            "id": pointer_id,
            "at": started,
            "shards": fresh,
            "packs": packs,
            "structural": sorted(structural),
        }
        repo.index.set_meta(key, json.dumps(memo, separators=(",", ":")))
    return sorted(missing)


def _packed_ids(root: str, packs_mtime: int) -> set[str]:
    """The ids packed in the local store at ``root`` (none if it has no ``packs/``)."""
    if packs_mtime < 0:
        return set()
    # Imported on first need: a remembered answer reads no pack (and ``status``
    # then never loads the object store's modules).
    from loopml.objects import local_packed_ids

    return local_packed_ids(root)


def _mtime(folder: str) -> int:
    """A folder's mtime in ns, or -1 if it does not exist."""
    try:
        return os.stat(folder).st_mtime_ns
    except FileNotFoundError:
        return -1


@dataclass(frozen=True)
class _Memo:
    """What the last look-up remembered: when, shard and ``packs/`` mtimes, structural ids."""

    at: int = 0
    shards: dict[str, int] = field(default_factory=dict)
    packs: int | None = None
    structural: frozenset[str] = frozenset()


def _load(raw: str | None, pointer_id: str) -> _Memo:
    """What was remembered for ``pointer_id``; nothing for another pointer."""
    if raw is not None:
        try:
            saved = json.loads(raw)
        except ValueError:
            saved = None
        if isinstance(saved, dict) and saved.get("id") == pointer_id:
            packs = saved.get("packs")
            return _Memo(
                at=int(saved["at"]),
                shards={str(k): int(v) for k, v in saved["shards"].items()},
                packs=int(packs) if isinstance(packs, int) else None,
                structural=frozenset(str(i) for i in saved.get("structural", ())),
            )
    return _Memo()
