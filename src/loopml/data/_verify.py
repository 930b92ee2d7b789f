"""``verify``: re-hash every cached object the pointers need; repair from a remote.

Each tree and content reachable from the workspace's pointer files is read
back and checked against its BLAKE3 id (a chunked content chunk by chunk).
A damaged object is deleted from the cache (or, inside a pack, dropped from
the pack's index), so the next transfer does not skip it, and fetched again
from the remote when one is configured. Since a hardlinked workspace file
shares the damaged bytes, the stat index forgets the files holding them:
``status`` then re-hashes them and ``checkout --force`` restores them.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from loopml.core.errors import CorruptObject, InvalidArgument, NotFound
from loopml.data._pointer import read_pointer
from loopml.data._progress import NO_PROGRESS, Progress
from loopml.data._repo import DataRepo
from loopml.data._status import pointer_targets
from loopml.objects import ObjectStore, reachable

_READ = 1024 * 1024


@dataclass
class VerifyReport:
    """What verify checked and found."""

    checked: int = 0
    """Objects (trees and contents) read back."""
    bytes: int = 0
    corrupt: list[str] = field(default_factory=list)
    """Ids whose stored bytes did not match (deleted from the cache)."""
    missing: list[str] = field(default_factory=list)
    """Ids a pointer needs that the cache does not hold."""
    repaired: list[str] = field(default_factory=list)
    """Corrupt or missing ids fetched again from the remote."""
    remote: str | None = None
    files_in_doubt: int = 0
    """Workspace files that shared damaged bytes (restore them with ``checkout --force``)."""

    @property
    def ok(self) -> bool:
        """True when every needed object is present and intact (possibly after repair)."""
        return not (set(self.corrupt) | set(self.missing)) - set(self.repaired)


def verify(
    repo: DataRepo, *, remote: str | None = None, progress: Progress = NO_PROGRESS
) -> VerifyReport:
    """Re-hash the cached objects reachable from the pointers; re-fetch damaged ones.

    Re-fetches from ``remote`` (or the default remote, if one is configured).
    InvalidArgument if ``remote`` names no configured remote.
    """
    report = VerifyReport()
    with repo.lock():
        if remote is not None or repo.config().default_remote is not None:
            report.remote = repo.remote(remote).name
        store = repo.cache
        roots = {read_pointer(pf).id for pf in pointer_targets(repo, None)}
        trees, contents = _split(store, roots, report)
        progress.start("Verifying", len(contents), "objects")
        try:
            for object_id in sorted(contents):
                _check(store, object_id, report)
                progress.advance()
        finally:
            progress.finish()
        report.checked += len(trees)
        damaged = set(report.corrupt)
        if damaged:
            report.files_in_doubt = repo.index.forget_ids(damaged)
        wanted = damaged | set(report.missing)
        if wanted and report.remote is not None:
            from loopml.data._remote import fetch_ids

            fetch_ids(repo, sorted(wanted), remote=report.remote)
            report.repaired = sorted(oid for oid in wanted if _intact(store, oid))
    return report


def _split(store: ObjectStore, roots: set[str], report: VerifyReport) -> tuple[set[str], set[str]]:
    """Trees (verified while reading them) and the contents they list."""
    trees: set[str] = set()
    contents: set[str] = set()
    stack = sorted(roots)
    while stack:
        object_id = stack.pop()
        if object_id in trees or object_id in contents:
            continue
        try:
            tree = store.get_tree(object_id)
        except NotFound:
            if store.exists(object_id):
                contents.add(object_id)
            else:
                report.missing.append(object_id)
            continue
        except CorruptObject:
            report.corrupt.append(object_id)
            _delete(store, object_id, "trees")
            continue
        trees.add(object_id)
        stack.extend(entry.id for entry in tree.entries.values())
    return trees, contents


def _check(store: ObjectStore, object_id: str, report: VerifyReport) -> None:
    try:
        report.bytes += _read_all(store, object_id)
        report.checked += 1
        return
    except NotFound:
        report.missing.append(object_id)
        return
    except CorruptObject:
        report.corrupt.append(object_id)
    # Find the damaged stored files: the blob itself, or the chunks of a chunked content.
    parts = set(reachable(store, [object_id]).children.get(object_id, ()))
    bad = [part for part in parts if not _intact(store, part)]
    for part in bad:
        _delete(store, part, "blobs")
    _delete(store, object_id, "blobs")
    # A chunked content's manifest goes too: a transfer then brings it and its missing chunks.
    _delete(store, object_id, "manifests")
    # Damaged bytes inside a pack stay there, but its index forgets them.
    store.drop_packed([*bad, object_id])


def _read_all(store: ObjectStore, object_id: str) -> int:
    total = 0
    with store.open(object_id) as stream:
        while block := stream.read(_READ):
            total += len(block)
    return total


def _intact(store: ObjectStore, object_id: str) -> bool:
    try:
        _read_all(store, object_id)
    except (NotFound, CorruptObject):
        return False
    return True


def _delete(store: ObjectStore, object_id: str, kind: str) -> None:
    """Remove a damaged object's file from the local cache, so a transfer replaces it."""
    uri = store.uri
    if "://" in uri and not uri.startswith("file://"):
        raise InvalidArgument(f"verify repairs local caches only, not {uri}")
    root = os.path.abspath(os.path.expanduser(uri.removeprefix("file://")))
    path = os.path.join(root, kind, object_id[:2], object_id[2:])
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
