"""Garbage collection: keep what the roots reach, and anything too young to judge.

The walk happens before any deletion, so an unreadable tree or manifest
aborts the collection instead of orphaning what it references. Deletion goes
parents first (trees, manifests, then blobs, then packs none of whose
contents is reachable): a crash half way leaves unreferenced chunks, never a
manifest whose chunks are gone.

The grace period protects objects written while the collection runs (a
writer stores chunks before the manifest, entries before the tree, and the
tree before it records the tree's id as a root). It does not protect an old,
unreachable object that a writer is re-using right now (its put was a no-op):
collect when no such write is in flight, or name its id as a root.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loopml.core.errors import InvalidArgument, NotFound
from loopml.objects._chunking import decode_manifest
from loopml.objects._fs import Backend, StoredEntry
from loopml.objects._layout import Kind, check_id, id_from_key, is_temp_key, key_for
from loopml.objects._packs import collect_packs
from loopml.objects._reader import read_verified
from loopml.objects._tree import decode_tree

_DELETE_ORDER = (Kind.TREE, Kind.MANIFEST, Kind.BLOB)


@dataclass(frozen=True)
class GcReport:
    """What a garbage collection did (or, with ``dry_run``, would do).

    ``deleted`` and ``freed_bytes`` count unreachable objects past the grace
    period; ``kept`` counts every other stored object.
    """

    deleted: int
    freed_bytes: int
    kept: int


def collect_garbage(
    backend: Backend, roots: Iterable[str], *, grace_seconds: float, now: float, dry_run: bool
) -> GcReport:
    """Delete every object unreachable from ``roots`` and older than ``grace_seconds``."""
    if isinstance(roots, str):
        raise InvalidArgument("gc roots must be an iterable of ids, not a single string")
    root_ids = [check_id(root) for root in roots]
    if not grace_seconds >= 0:
        raise InvalidArgument(f"grace_seconds must be >= 0, got {grace_seconds!r}")
    cutoff = now - grace_seconds

    stored: dict[Kind, dict[str, StoredEntry]] = {kind: {} for kind in Kind}
    stale_temps: list[StoredEntry] = []
    for kind in Kind:
        for entry in backend.list(kind.value):
            object_id = id_from_key(kind, entry.key)
            if object_id is not None:
                stored[kind][object_id] = entry
            elif is_temp_key(entry.key) and entry.mtime < cutoff:
                stale_temps.append(entry)

    reachable = _reachable(backend, root_ids, stored)

    doomed: list[StoredEntry] = []
    kept = 0
    for kind in _DELETE_ORDER:
        for object_id, entry in stored[kind].items():
            if object_id in reachable or entry.mtime >= cutoff:
                kept += 1
            else:
                doomed.append(entry)
    if not dry_run:
        backend.delete([entry.key for entry in doomed])
        backend.delete([entry.key for entry in stale_temps])
    # Packs last: a pack goes only when none of its contents is reachable.
    packs = collect_packs(backend, reachable, cutoff=cutoff, dry_run=dry_run)
    return GcReport(
        deleted=len(doomed) + packs.deleted,
        freed_bytes=sum(entry.size for entry in doomed) + packs.freed_bytes,
        kept=kept + packs.kept,
    )


def _reachable(
    backend: Backend, roots: list[str], stored: dict[Kind, dict[str, StoredEntry]]
) -> set[str]:
    """Ids reachable from ``roots`` through trees (entries) and manifests (chunks)."""
    reachable: set[str] = set()
    stack = list(roots)
    while stack:
        object_id = stack.pop()
        if object_id in reachable:
            continue
        reachable.add(object_id)
        if object_id in stored[Kind.TREE]:
            try:
                data = read_verified(backend, Kind.TREE, object_id)
            except NotFound:
                continue  # deleted under us: nothing of it left to protect
            tree = decode_tree(object_id, data, backend.location(key_for(Kind.TREE, object_id)))
            stack.extend(entry.id for entry in tree.entries.values())
        if object_id in stored[Kind.MANIFEST]:
            key = key_for(Kind.MANIFEST, object_id)
            try:
                raw = backend.read_bytes(key)
            except NotFound:
                continue
            manifest = decode_manifest(object_id, raw, backend.location(key))
            stack.extend(chunk_id for chunk_id, _ in manifest.chunks)
    return reachable
