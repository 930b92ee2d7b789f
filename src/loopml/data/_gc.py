"""``gc``: delete cached data objects that no pointer needs any more, and nothing else.

The roots are the content ids of the workspace's pointer files (and, with
``all_commits``, of every pointer file in every git revision, so any commit
can still be checked out).

The cache is normally the platform's shared object store, where runs, model
versions and other data repositories keep their objects too. So data gc
never reasons "unreachable from my pointers, therefore garbage". It deletes
only objects it can prove are its own: the ids ``loopml data add`` stored
from *this* repository (remembered in ``state.db``) and the chunks of those
contents; and among them only what is unreachable from the pointers, from
every object the metadata store refers to (runs, models: when the cache is
the platform store) and from every other stored object (a model's manifest
sharing a chunk keeps it). Objects younger than the grace period are kept.
With a dedicated cache (``[core] cache`` in config.toml) the same rule
applies: other repositories may share that folder too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loopml.data._pointer import read_pointer
from loopml.data._repo import DataRepo
from loopml.objects import ObjectStore, reachable


@dataclass(frozen=True)
class DataGcReport:
    """What data gc deleted (or would, with ``dry_run``)."""

    deleted: int
    freed_bytes: int
    kept: int
    candidates: int
    """Objects this repository stored that were considered for deletion."""
    roots: int
    """Pointer ids kept (workspace, plus every revision with ``all_commits``)."""
    dry_run: bool


def gc(
    repo: DataRepo,
    *,
    dry_run: bool = False,
    all_commits: bool = False,
    grace_seconds: float | None = None,
) -> DataGcReport:
    """Delete this repository's cached objects that no pointer (nor anything else) needs.

    ``grace_seconds`` defaults to the platform's ``gc_grace_seconds``: younger
    objects are kept, so a concurrent add never loses what it just stored.
    InvalidArgument for an unreadable pointer (gc would otherwise forget its
    data); InvalidState while another data command runs.
    """
    grace = repo.settings.gc_grace_seconds if grace_seconds is None else grace_seconds
    with repo.lock():
        roots = workspace_roots(repo)
        if all_commits:
            roots |= history_roots(repo)
        store = repo.cache
        recorded = repo.index.added_ids()
        candidates = closure(store, recorded) - closure(store, roots)
        others = set(store.iter_ids()) - candidates
        keep = roots | others | platform_roots(repo)
        # This repository's pin would keep everything it ever added: judge without it,
        # then pin only what is left of it.
        report = store.gc(keep, grace_seconds=grace, dry_run=dry_run, ignoring_pins=[repo.pin_name])
        if not dry_run:
            pinned = store.pinned(repo.pin_name)
            store.set_pin(repo.pin_name, {oid for oid in pinned if store.exists(oid)})
            repo.index.forget_added(oid for oid in recorded if not store.exists(oid))
    return DataGcReport(
        deleted=report.deleted,
        freed_bytes=report.freed_bytes,
        kept=report.kept,
        candidates=len(candidates),
        roots=len(roots),
        dry_run=dry_run,
    )


def workspace_roots(repo: DataRepo) -> set[str]:
    """The content ids named by every pointer file in the workspace."""
    return {read_pointer(pointer_file).id for pointer_file in repo.pointer_files()}


def history_roots(repo: DataRepo) -> set[str]:
    """The content ids named by every pointer file committed on any git ref."""
    from loopml.data._git import pointers_in_history

    return {pointer.id for _, pointer in pointers_in_history(repo)}


def closure(store: ObjectStore, ids: Iterable[str]) -> set[str]:
    """``ids`` that are stored and everything they reach (tree entries, chunks)."""
    return set(reachable(store, ids).ids)


def platform_roots(repo: DataRepo) -> set[str]:
    """Ids the metadata store refers to (run artifacts, model versions), for a shared cache.

    Empty for a dedicated cache, and when the tracking store is a remote
    server (its objects live beside it, not in this machine's store).
    """
    if not repo.cache_is_shared:
        return set()
    from loopml.tracking import Client

    client = Client(None, settings=repo.settings)
    try:
        if client.is_remote:
            return set()
        return set(client.store.referenced_blobs())
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()
