"""Step outputs in the object store: written as a step run's artifacts, read back by id.

Each output is a file (or, for models, a folder) under ``outputs/<name>/``
in the artifact index of the step run that made it, so its bytes are blobs
of the object store that ``loopml gc`` keeps while the run lives. A cache
hit adds the same index rows to the new step run: no byte is copied.

An output's ``id`` is its blob id (one file), or for a folder the BLAKE3 of
its sorted (path, blob id) pairs; equal ids mean equal contents, which is
how a run on Ray and a run on the local pool are compared.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.core.hashing import hash_bytes
from loopml.pipelines._formats import file_name, read_output, write_output
from loopml.pipelines._tags import OUTPUTS_FOLDER
from loopml.store import ArtifactEntry
from loopml.tracking import Client

File = tuple[str, str, int]  # artifact path, blob id, size


@dataclass(frozen=True)
class StoredOutput:
    """One stored output: where it is (run and path), how it is written, its id and files."""

    run_id: str
    format: str
    id: str
    path: str
    files: tuple[File, ...]

    def summary(self) -> dict[str, str]:
        """What the step run's outputs tag shows (the files stay in the cache entry)."""
        return {"format": self.format, "id": self.id, "path": self.path}

    def entries(self) -> list[ArtifactEntry]:
        return [ArtifactEntry(path, blob, size) for path, blob, size in self.files]

    def moved_to(self, run_id: str) -> StoredOutput:
        """The same output, as indexed in another run (a cache hit)."""
        return StoredOutput(run_id, self.format, self.id, self.path, self.files)


def outputs_to_json(outputs: Mapping[str, StoredOutput]) -> str:
    """The cache entry's text: every output with its files."""
    return json.dumps(
        {
            name: {**out.summary(), "files": [list(f) for f in out.files]}
            for name, out in outputs.items()
        },
        separators=(",", ":"),
    )


def outputs_from_json(run_id: str, text: str) -> dict[str, StoredOutput]:
    """Outputs of ``run_id`` from a cache entry's text."""
    found = json.loads(text)
    return {
        name: StoredOutput(
            run_id,
            item["format"],
            item["id"],
            item["path"],
            tuple((str(p), str(b), int(s)) for p, b, s in item["files"]),
        )
        for name, item in found.items()
    }


def store_outputs(
    client: Client,
    run_id: str,
    values: Mapping[str, Any],
    *,
    step: str,
    allow_pickle: bool,
) -> dict[str, StoredOutput]:
    """Write each output in its format and log them all as ``run_id``'s artifacts.

    UnstorableOutput (before anything is logged) when a value fits no safe
    format and ``allow_pickle`` is False.
    """
    staging = Path(tempfile.mkdtemp(prefix="loopml-outputs-"))
    try:
        formats = {
            name: write_output(
                value,
                staging / name,
                where=f"Step {step!r}, output {name!r}",
                allow_pickle=allow_pickle,
            )
            for name, value in values.items()
        }
        entries = client.log_artifacts(run_id, str(staging), OUTPUTS_FOLDER)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stored = {}
    for name, fmt in formats.items():
        path = f"{OUTPUTS_FOLDER}/{name}/{file_name(fmt)}"
        files = tuple(
            (e.path, e.blob_id, e.size)
            for e in entries
            if e.path == path or e.path.startswith(path + "/")
        )
        stored[name] = StoredOutput(run_id, fmt, _content_id(path, files), path, files)
    return stored


def _content_id(path: str, files: tuple[File, ...]) -> str:
    if len(files) == 1 and files[0][0] == path:
        return files[0][1]
    listing = sorted((p[len(path) + 1 :], blob) for p, blob, _ in files)
    return hash_bytes(json.dumps(listing, separators=(",", ":")).encode())


def load_output(client: Client, output: StoredOutput, *, allow_pickle: bool, where: str) -> Any:
    """The value of a stored output, read through ``client`` (embedded or remote)."""

    def data() -> bytes:
        if not client.is_remote:
            return client.objects.get_bytes(output.files[0][1])  # by id: no index query
        _, reader = client.open_artifact(output.run_id, output.path)
        with reader:
            return reader.read()

    made: list[str] = []

    def folder() -> Path:
        made.append(tempfile.mkdtemp(prefix="loopml-output-"))
        return Path(client.download_artifacts(output.run_id, output.path, made[-1]))

    try:
        return read_output(output.format, data, folder, allow_pickle=allow_pickle, where=where)
    finally:  # models of the safe flavors are in memory once loaded
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
