"""The bytes behind versions: read from the object store, or through a server.

Embedded (``LocalVersionFiles``): the manifest is read from the run's files in
the object store before the version is created, and a version's files are
copied out of the object store (atomic per file, hash verified).

Remote (``RemoteVersionFiles``): the server reads the manifest itself (it
never takes a client's word for a signature), and files stream from its
registry endpoints, each verified against its BLAKE3 hash before it is renamed
into place, so a remote client never needs the object store's credentials.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import blake3

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.objects import ChunkReader, validate_tree_path, write_chunks_atomically
from loopml.registry._manifest import MANIFEST, MAX_MANIFEST_BYTES, signature_of
from loopml.registry._rest import RestRegistryStore
from loopml.store import ModelVersionFile
from loopml.tracking import Client


class VersionFiles(Protocol):
    """Where a registry reads manifests and version files from."""

    def describe(self, run_id: str, path: str) -> tuple[dict[str, Any] | None, str | None]:
        """(signature, manifest blob id) of the run folder's ``MLmodel``; Nones without one."""

    def open(self, name: str, version: int, file: ModelVersionFile) -> BinaryIO:
        """A reader of one snapshot file that verifies its hash as it reads."""

    def download(
        self, name: str, version: int, files: Sequence[ModelVersionFile], dst: Path
    ) -> None:
        """Write every file below ``dst`` (each atomically, verified)."""


def target_of(dst: Path, file: ModelVersionFile) -> Path:
    """Where a snapshot file goes below ``dst``; its path may never leave ``dst``."""
    try:
        relative = validate_tree_path(file.path)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Refusing to write a model file outside {dst}: {exc}") from exc
    return dst.joinpath(*relative.split("/"))


class LocalVersionFiles:
    """Version files in the client's own object store (embedded mode)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def describe(self, run_id: str, path: str) -> tuple[dict[str, Any] | None, str | None]:
        manifest_path = f"{path}/{MANIFEST}" if path else MANIFEST
        entries = self._client.list_artifact_entries(run_id, manifest_path)
        entry = next((e for e in entries if e.path == manifest_path), None)
        if entry is None:
            return None, None
        with self._client.objects.open(entry.blob_id) as reader:
            data = reader.read(MAX_MANIFEST_BYTES + 1)
        return signature_of(data, f"runs:/{run_id}/{manifest_path}"), entry.blob_id

    def open(self, name: str, version: int, file: ModelVersionFile) -> BinaryIO:
        return self._client.objects.open(file.blob_id)

    def download(
        self, name: str, version: int, files: Sequence[ModelVersionFile], dst: Path
    ) -> None:
        for file in files:
            target = target_of(dst, file)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._client.objects.get_file(file.blob_id, target)


class RemoteVersionFiles:
    """Version files streamed from a loopml server (remote mode)."""

    def __init__(self, store: RestRegistryStore) -> None:
        self._store = store

    def describe(self, run_id: str, path: str) -> tuple[dict[str, Any] | None, str | None]:
        return None, None  # the server reads the manifest when it creates the version

    def _verified(self, name: str, version: int, file: ModelVersionFile) -> Iterator[bytes]:
        hasher = blake3.blake3()
        for chunk in self._store.stream_file(name, version, file.path):
            hasher.update(chunk)
            yield chunk
        if hasher.hexdigest() != file.blob_id:
            raise CorruptObject(
                f"File {file.path!r} of version {version} of {name!r} arrived damaged: its "
                f"bytes do not match their hash {file.blob_id}."
            )

    def open(self, name: str, version: int, file: ModelVersionFile) -> BinaryIO:
        return io.BufferedReader(ChunkReader(self._verified(name, version, file)))

    def download(
        self, name: str, version: int, files: Sequence[ModelVersionFile], dst: Path
    ) -> None:
        for file in files:
            target = target_of(dst, file)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_chunks_atomically(target, self._verified(name, version, file))
