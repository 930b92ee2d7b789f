"""Garbage collection of tracking data: purge deleted runs, then unreachable blobs."""

from __future__ import annotations

from dataclasses import dataclass

from loopml.core.clock import now_ms
from loopml.objects import ObjectStore
from loopml.store import TrackingStore


@dataclass(frozen=True, slots=True)
class GcSummary:
    purged_runs: int
    deleted_objects: int
    freed_bytes: int
    kept_objects: int


def collect_garbage(
    store: TrackingStore,
    objects: ObjectStore,
    *,
    older_than_ms: int = 0,
    grace_seconds: float,
    dry_run: bool = False,
) -> GcSummary:
    """Remove runs deleted more than ``older_than_ms`` ago, then unreferenced blobs.

    Blobs younger than ``grace_seconds`` are kept whatever refers to them, so a
    writer that stored a blob but has not yet indexed it never loses it.
    """
    purged: list[str] = []
    if not dry_run:
        purged = store.purge_deleted_runs(now_ms() - older_than_ms)
    report = objects.gc(set(store.referenced_blobs()), grace_seconds=grace_seconds, dry_run=dry_run)
    return GcSummary(len(purged), report.deleted, report.freed_bytes, report.kept)
