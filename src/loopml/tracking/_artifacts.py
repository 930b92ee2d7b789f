"""Run artifacts: files in the content-addressed object store, indexed per run.

Uploading stores each file once by its BLAKE3 hash (a second run logging the
same bytes costs nothing); the run's artifact index maps paths to blobs.
Downloads are atomic per file and verify the hash.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from pathlib import Path

from loopml.core.errors import InvalidArgument, NotFound
from loopml.objects import ObjectStore
from loopml.store import ArtifactEntry, FileInfo, TrackingStore
from loopml.tracking._validation import validate_artifact_path

Progress = Callable[[int, int], None]


def _join(folder: str, name: str) -> str:
    return validate_artifact_path(posixpath.join(folder, name) if folder else name)


def log_file(
    store: TrackingStore,
    objects: ObjectStore,
    run_id: str,
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
) -> ArtifactEntry:
    """Store one local file under ``artifact_path/<file name>``."""
    path = Path(local_path)
    if not path.is_file():
        raise InvalidArgument(f"Cannot log artifact {str(path)!r}: no such file.")
    folder = validate_artifact_path(artifact_path)
    blob = objects.put_file(path)
    entry = ArtifactEntry(_join(folder, path.name), blob.id, blob.size)
    store.record_artifacts(run_id, [entry])
    return entry


def log_folder(
    store: TrackingStore,
    objects: ObjectStore,
    run_id: str,
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    progress: Progress | None = None,
) -> list[ArtifactEntry]:
    """Store every file below ``local_dir`` keeping relative paths; one index write."""
    root = Path(local_dir)
    if not root.is_dir():
        raise InvalidArgument(f"Cannot log artifacts from {str(root)!r}: no such folder.")
    folder = validate_artifact_path(artifact_path)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    entries = []
    for done, file in enumerate(files, start=1):
        blob = objects.put_file(file)
        entries.append(
            ArtifactEntry(_join(folder, file.relative_to(root).as_posix()), blob.id, blob.size)
        )
        if progress:
            progress(done, len(files))
    if entries:
        store.record_artifacts(run_id, entries)
    return entries


def log_bytes(
    store: TrackingStore, objects: ObjectStore, run_id: str, data: bytes, artifact_file: str
) -> ArtifactEntry:
    """Store in-memory bytes as the artifact file ``artifact_file``."""
    path = validate_artifact_path(artifact_file)
    if not path:
        raise InvalidArgument("artifact_file must name a file, e.g. 'reports/summary.txt'.")
    entry = ArtifactEntry(path, objects.put_bytes(data), len(data))
    store.record_artifacts(run_id, [entry])
    return entry


def list_folder(store: TrackingStore, run_id: str, path: str | None = None) -> list[FileInfo]:
    """The direct children of ``path`` (files and folders), as MLflow lists them."""
    folder = validate_artifact_path(path)
    entries = store.list_artifact_entries(run_id, folder)
    if len(entries) == 1 and entries[0].path == folder:
        return [FileInfo(folder, False, entries[0].size)]
    infos: dict[str, FileInfo] = {}
    cut = len(folder) + 1 if folder else 0
    for entry in entries:
        rest = entry.path[cut:]
        head, sep, _ = rest.partition("/")
        child = _join(folder, head)
        infos.setdefault(
            child, FileInfo(child, True) if sep else FileInfo(child, False, entry.size)
        )
    return list(infos.values())


def download(
    store: TrackingStore,
    objects: ObjectStore,
    run_id: str,
    path: str | None,
    dst_path: str | os.PathLike[str],
    progress: Progress | None = None,
) -> str:
    """Copy a file or folder of a run's artifacts below ``dst_path``; return the local path."""
    source = validate_artifact_path(path)
    entries = store.list_artifact_entries(run_id, source)
    if not entries and source:
        raise NotFound(
            f"Run {run_id} has no artifact {source!r}: list_artifacts shows what it has."
        )
    destination = Path(dst_path)
    for done, entry in enumerate(entries, start=1):
        target = destination.joinpath(*entry.path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        objects.get_file(entry.blob_id, target)
        if progress:
            progress(done, len(entries))
    if not entries:
        destination.mkdir(parents=True, exist_ok=True)
    return str(destination.joinpath(*source.split("/")) if source else destination)
