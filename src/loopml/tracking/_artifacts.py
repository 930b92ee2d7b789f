"""Run artifacts behind one small interface: where the bytes go depends on the mode.

Embedded (``LocalArtifacts``): files go into the content-addressed object
store, each stored once by its BLAKE3 hash (a second run logging the same
bytes costs nothing), and the run's artifact index maps paths to blobs.
Downloads are atomic per file and verify the hash.

Remote (``loopml.tracking._rest.RemoteArtifacts``): the same operations over
the server's artifact endpoints, so a remote client never needs the object
store's credentials.
"""

from __future__ import annotations

import io
import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from loopml.core.errors import InvalidArgument, NotFound
from loopml.objects import ObjectStore
from loopml.store import ArtifactEntry, FileInfo, TrackingStore
from loopml.tracking._validation import validate_artifact_path

Progress = Callable[[int, int], None]


class ArtifactRepository(Protocol):
    """Where a client's run artifacts are written and read."""

    def log_file(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None
    ) -> ArtifactEntry:
        """Store one local file under ``artifact_path/<file name>``."""

    def log_folder(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None,
        progress: Progress | None,
    ) -> list[ArtifactEntry]:
        """Store every file below ``local_dir``, keeping relative paths."""

    def log_stream(self, run_id: str, stream: BinaryIO, artifact_file: str) -> ArtifactEntry:
        """Store what ``stream`` yields until its end as the file ``artifact_file``."""

    def list_folder(self, run_id: str, path: str | None) -> list[FileInfo]:
        """The direct children of ``path`` (files and folders), as MLflow lists them."""

    def list_entries(self, run_id: str, prefix: str) -> list[ArtifactEntry]:
        """Index entries at or below ``prefix``, ordered by path."""

    def index(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        """Add entries for contents that are stored already (InvalidArgument otherwise)."""

    def open(self, run_id: str, artifact_file: str) -> tuple[ArtifactEntry, BinaryIO]:
        """The entry of one artifact file and a verifying reader of its bytes."""

    def download(
        self,
        run_id: str,
        path: str | None,
        dst_path: str | os.PathLike[str],
        progress: Progress | None,
    ) -> str:
        """Copy a file or folder below ``dst_path``; return the local path."""


def join(folder: str, name: str) -> str:
    return validate_artifact_path(posixpath.join(folder, name) if folder else name)


def file_path(artifact_file: str) -> str:
    """A validated path naming a file (not the root)."""
    path = validate_artifact_path(artifact_file)
    if not path:
        raise InvalidArgument("artifact_file must name a file, e.g. 'reports/summary.txt'.")
    return path


def children(folder: str, entries: Sequence[ArtifactEntry]) -> list[FileInfo]:
    """The direct children of ``folder`` among index entries at or below it."""
    if len(entries) == 1 and entries[0].path == folder:
        return [FileInfo(folder, False, entries[0].size)]
    infos: dict[str, FileInfo] = {}
    cut = len(folder) + 1 if folder else 0
    for entry in entries:
        rest = entry.path[cut:]
        head, sep, _ = rest.partition("/")
        child = join(folder, head)
        infos.setdefault(
            child, FileInfo(child, True) if sep else FileInfo(child, False, entry.size)
        )
    return list(infos.values())


def files_below(root: Path) -> list[Path]:
    """The files below ``root``; a symlink that leads outside ``root`` is refused."""
    if not root.is_dir():
        raise InvalidArgument(f"Cannot log artifacts from {str(root)!r}: no such folder.")
    inside = root.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for file in files:
        target = file.resolve()
        if not target.is_relative_to(inside):
            raise InvalidArgument(
                f"Cannot log {str(file)!r}: it links to {str(target)!r}, outside {str(root)!r}. "
                "Copy the file into the folder, or log it with log_artifact."
            )
    return files


def folder_files(
    local_dir: str | os.PathLike[str], artifact_path: str | None, progress: Progress | None
) -> Iterator[tuple[Path, str]]:
    """(local file, artifact path) for every file below ``local_dir``, reporting progress."""
    root = Path(local_dir)
    files = files_below(root)
    folder = validate_artifact_path(artifact_path)
    for done, file in enumerate(files, start=1):
        yield file, join(folder, file.relative_to(root).as_posix())
        if progress:
            progress(done, len(files))


def checked_file(local_path: str | os.PathLike[str]) -> Path:
    path = Path(local_path)
    if not path.is_file():
        raise InvalidArgument(f"Cannot log artifact {str(path)!r}: no such file.")
    return path


def single_file(run_id: str, path: str, entries: Sequence[ArtifactEntry]) -> ArtifactEntry:
    """The entry naming exactly ``path``; NotFound, or InvalidArgument for a folder."""
    for entry in entries:
        if entry.path == path:
            return entry
    if entries:
        raise InvalidArgument(
            f"Artifact {path!r} of run {run_id} is a folder: list it, or download it whole."
        )
    raise NotFound(f"Run {run_id} has no artifact {path!r}: list_artifacts shows what it has.")


class LocalArtifacts:
    """Artifacts in the object store, indexed in the metadata store."""

    def __init__(self, store: TrackingStore, objects: Callable[[], ObjectStore]) -> None:
        self._store = store
        self._objects = objects  # opened on first use: many clients never touch artifacts

    def log_file(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None
    ) -> ArtifactEntry:
        path = checked_file(local_path)
        folder = validate_artifact_path(artifact_path)
        blob = self._objects().put_file(path)
        entry = ArtifactEntry(join(folder, path.name), blob.id, blob.size)
        self._store.record_artifacts(run_id, [entry])
        return entry

    def log_folder(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None,
        progress: Progress | None,
    ) -> list[ArtifactEntry]:
        entries = []
        for file, target in folder_files(local_dir, artifact_path, progress):
            blob = self._objects().put_file(file)
            entries.append(ArtifactEntry(target, blob.id, blob.size))
        if entries:
            self._store.record_artifacts(run_id, entries)  # one index write for the folder
        return entries

    def log_stream(self, run_id: str, stream: BinaryIO, artifact_file: str) -> ArtifactEntry:
        path = file_path(artifact_file)
        # Fails (NotFound) before any byte is stored when the run does not exist.
        self._store.list_artifact_entries(run_id, path)
        if isinstance(stream, io.BytesIO):
            data = stream.read()  # small in-memory content: no streaming machinery
            entry = ArtifactEntry(path, self._objects().put_bytes(data), len(data))
        else:
            blob = self._objects().put_stream(stream)
            entry = ArtifactEntry(path, blob.id, blob.size)
        self._store.record_artifacts(run_id, [entry])
        return entry

    def list_folder(self, run_id: str, path: str | None) -> list[FileInfo]:
        folder = validate_artifact_path(path)
        return children(folder, self._store.list_artifact_entries(run_id, folder))

    def list_entries(self, run_id: str, prefix: str) -> list[ArtifactEntry]:
        return self._store.list_artifact_entries(run_id, validate_artifact_path(prefix))

    def index(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        checked = []
        for entry in entries:
            stored = self._objects().stat(entry.blob_id)  # NotFound if absent
            if stored.size != entry.size:
                raise InvalidArgument(
                    f"Blob {entry.blob_id} holds {stored.size} bytes, not {entry.size}."
                )
            checked.append(ArtifactEntry(file_path(entry.path), entry.blob_id, entry.size))
        if checked:
            self._store.record_artifacts(run_id, checked)

    def open(self, run_id: str, artifact_file: str) -> tuple[ArtifactEntry, BinaryIO]:
        path = file_path(artifact_file)
        entry = single_file(run_id, path, self._store.list_artifact_entries(run_id, path))
        return entry, self._objects().open(entry.blob_id)

    def download(
        self,
        run_id: str,
        path: str | None,
        dst_path: str | os.PathLike[str],
        progress: Progress | None,
    ) -> str:
        source = validate_artifact_path(path)
        entries = self._store.list_artifact_entries(run_id, source)
        if not entries and source:
            raise NotFound(
                f"Run {run_id} has no artifact {source!r}: list_artifacts shows what it has."
            )
        destination = Path(dst_path)
        for done, entry in enumerate(entries, start=1):
            target = destination.joinpath(*entry.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            self._objects().get_file(entry.blob_id, target)
            if progress:
                progress(done, len(entries))
        return finish_download(destination, source, bool(entries))


def finish_download(destination: Path, source: str, any_files: bool) -> str:
    if not any_files:
        destination.mkdir(parents=True, exist_ok=True)
    return str(destination.joinpath(*source.split("/")) if source else destination)
