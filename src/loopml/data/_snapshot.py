"""Snapshots: hash and store a file or folder, skipping files the stat index knows unchanged.

:func:`capture` is the engine shared by ``add`` (which also links the stored
blobs back into the workspace through its ``store_file`` hook) and by
:func:`snapshot` / :func:`snapshot_into`. Files are stored by a thread pool
(hashing and file I/O release the GIL), in small batches so that 10,000 tiny
files do not cost 10,000 future objects; the tree is stored once at the end.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from loopml.data._index import StatEntry, StatIndex, StatRow, vouched_id
from loopml.data._pointer import Pointer
from loopml.data._progress import NO_PROGRESS, BytesTold, OnRead, Progress
from loopml.data._repo import DataRepo
from loopml.data._scan import BATCH, ScannedFile, scan, worker_count
from loopml.objects import ObjectStore, TreeEntry


@dataclass(frozen=True, slots=True)
class CapturedFile:
    """A scanned file and its content id; ``row`` is the stat row to record in the index."""

    file: ScannedFile
    id: str
    row: StatRow


@dataclass(frozen=True)
class Capture:
    """The pointer of a captured data path and the per-file results behind it."""

    pointer: Pointer
    files: list[CapturedFile]
    tree_id: str | None


StoreHook = Callable[[ScannedFile, "str | None", OnRead], "tuple[str, os.stat_result | None]"]
"""Stores one file, in a worker: (file, id the index vouches for or None, on_read) -> (id, stat).

The new stat is the file's stat if the hook replaced it (a link changes the
inode), else None. ``add`` uses it to link the stored blob into the workspace.
``on_read`` is given the bytes of a large file as they are read (progress);
whatever it was not told is counted once the file is stored.
"""


def capture(
    store: ObjectStore,
    path: Path,
    *,
    known: Mapping[str, StatEntry],
    key_prefix: str,
    progress: Progress = NO_PROGRESS,
    store_file: StoreHook | None = None,
    check_cached: bool = True,
    check: Callable[[list[ScannedFile]], None] | None = None,
    serial_below: int = 0,
) -> Capture:
    """Store the content of ``path`` in ``store`` and build its pointer.

    ``known`` maps index keys (``key_prefix`` + "/" + relative path, or
    ``key_prefix`` itself for a single file) to stat rows; a file whose stat
    matches is not read again (if ``check_cached``, only when its id is still
    stored). ``store_file`` stores each file in a worker (default:
    :meth:`ObjectStore.put_file`; ``add`` also links the blob into the
    workspace). ``check`` may reject the scanned files before anything is
    stored. Files of at most ``serial_below`` bytes are stored in this
    thread, the others in a pool: for a hook that only reads small files
    (into a pack), threads cost more in handing the GIL around than they save.
    """
    kind, files = scan(path)
    if check is not None:
        check(files)
    progress.start(f"Storing {path.name}", sum(f.size for f in files), "bytes")
    try:
        hook = store_file if store_file is not None else _putter(store)
        results = _store_all(
            store, files, known, key_prefix, progress, hook, check_cached, serial_below
        )
    finally:
        progress.finish()
    size = sum(f.file.size for f in results)
    if kind == "file":
        only = results[0]
        pointer = Pointer(path=path.name, kind="file", id=only.id, size=size, files=1)
        return Capture(pointer, results, None)
    tree_id = store.put_tree(
        {f.file.rel: TreeEntry(f.id, f.file.size, f.file.mode) for f in results}
    )
    pointer = Pointer(path=path.name, kind="dir", id=tree_id, size=size, files=len(results))
    return Capture(pointer, results, tree_id)


def _store_all(
    store: ObjectStore,
    files: Sequence[ScannedFile],
    known: Mapping[str, StatEntry],
    key_prefix: str,
    progress: Progress,
    store_file: StoreHook,
    check_cached: bool,
    serial_below: int,
) -> list[CapturedFile]:
    def key(file: ScannedFile) -> str:
        return f"{key_prefix}/{file.rel}" if file.rel else key_prefix

    def one(file: ScannedFile, on_read: OnRead) -> CapturedFile:
        vouched = vouched_id(known.get(key(file)), file.inode, file.mtime_ns, file.size)
        if vouched is not None and check_cached and not store.exists(vouched):
            vouched = None
        object_id, after = store_file(file, vouched, on_read)
        inode, mtime = (after.st_ino, after.st_mtime_ns) if after else (file.inode, file.mtime_ns)
        row = (key(file), inode, mtime, file.size, object_id)
        return CapturedFile(file, object_id, row)

    def batch(items: Sequence[ScannedFile]) -> list[CapturedFile]:
        told = BytesTold(progress)
        done = [one(file, told) for file in items]
        told.rest(sum(file.size for file in items))
        return done

    small = [f for f in files if f.size <= serial_below]
    large = [f for f in files if f.size > serial_below] if small else files
    batches = [large[i : i + BATCH] for i in range(0, len(large), BATCH)]
    if not small and len(batches) <= 1:
        return batch(files)
    results: dict[int, list[CapturedFile]] = {}
    mine: list[CapturedFile] = []
    with ThreadPoolExecutor(worker_count(), thread_name_prefix="loopml-data") as pool:
        futures: dict[Future[list[CapturedFile]], int] = {
            pool.submit(batch, items): number for number, items in enumerate(batches)
        }
        pending = set(futures)
        try:
            for start in range(0, len(small), BATCH):
                mine += batch(small[start : start + BATCH])
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    results[futures[future]] = future.result()
        finally:
            for future in pending:
                future.cancel()
    pooled = [captured for number in range(len(batches)) for captured in results[number]]
    if not small:
        return pooled
    by_rel = {captured.file.rel: captured for captured in mine + pooled}
    return [by_rel[file.rel] for file in files]


def _putter(store: ObjectStore) -> StoreHook:
    def put(
        file: ScannedFile, vouched: str | None, on_read: OnRead
    ) -> tuple[str, os.stat_result | None]:
        if vouched is not None:
            return vouched, None
        return store.put_file(file.path, on_read=on_read).id, None

    return put


def snapshot_into(
    store: ObjectStore,
    path: Path,
    *,
    index: StatIndex | None = None,
    progress: Progress = NO_PROGRESS,
) -> Pointer:
    """Store ``path`` (a file or folder outside any data repository) in ``store``.

    With ``index``, unchanged files (keyed by absolute path) are not re-hashed
    and the index learns the new rows.
    """
    key_prefix = Path(os.path.abspath(path)).as_posix()
    known = index.load(key_prefix) if index is not None else {}
    result = capture(store, Path(path), known=known, key_prefix=key_prefix, progress=progress)
    if index is not None:
        index.record((f.row for f in result.files), replace_prefix=key_prefix)
    return result.pointer


def snapshot(repo: DataRepo, path: Path, *, progress: Progress = NO_PROGRESS) -> Pointer:
    """Store the content of ``path`` (inside ``repo``) in the repository's cache.

    Unchanged files (per the stat index) are not re-hashed; the index learns
    the new rows and the stored ids are remembered as data objects. The
    workspace is left as it is (``add`` also links and writes the pointer).
    """
    rel = repo.relpath(path)
    result = capture(
        repo.cache,
        repo.root / rel,
        known=repo.index.load(rel),
        key_prefix=rel,
        progress=progress,
    )
    repo.index.record((f.row for f in result.files), replace_prefix=rel)
    repo.index.record_added(stored_ids(result))
    return result.pointer


def stored_ids(result: Capture) -> set[str]:
    """The object ids a capture stored: every file's content and the tree."""
    ids = {f.id for f in result.files}
    if result.tree_id is not None:
        ids.add(result.tree_id)
    return ids
