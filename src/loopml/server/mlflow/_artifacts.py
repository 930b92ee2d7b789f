"""MLflow's proxied artifacts (``mlflow-artifacts:``), onto loopml's object store and index.

The MLflow client sees ``mlflow-artifacts:/<exp>/<run>/artifacts`` as a run's
artifact URI (and ``mlflow-artifacts:/<exp>/models/<model_id>/artifacts`` as a
logged model's), so it uploads with ``PUT /api/2.0/mlflow-artifacts/artifacts/<path>``,
downloads with ``GET`` on the same path and lists with ``GET ...artifacts?path=``.
A path names nothing on a filesystem: it is resolved to a run and a relative path
in that run's artifact index, and bytes stream between the request and the
content-addressed object store. A path that is not inside an existing run's (or
logged model's) artifacts is a 404; an unsafe one (``..``, absolute, backslash,
NUL, or any of these percent-encoded) is a 400.

``registry/<name>/<version>/...`` paths serve a registered model version's immutable
snapshot, read-only (see ``_registry_files``).
"""

from __future__ import annotations

import io
import mimetypes
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from loopml.core.errors import InvalidArgument, InvalidState, NotFound
from loopml.registry import Registry
from loopml.server._body import RequestBody
from loopml.server._deps import registry, service
from loopml.server.mlflow._convert import file_info_json, run_artifact_uri
from loopml.server.mlflow._model_runs import get_model_run
from loopml.server.mlflow._registry_files import (
    SnapshotTarget,
    is_snapshot_path,
    refuse_write,
    snapshot_children,
    snapshot_target,
)
from loopml.server.mlflow._wire import Message, ok, parsed, required
from loopml.store import ArtifactEntry, FileInfo, LifecycleStage, Run
from loopml.tracking import Client
from loopml.tracking._validation import validate_artifact_path

router = APIRouter(include_in_schema=False)
PREFIX = "/api/2.0/mlflow-artifacts/artifacts"
_BLOCK = 1024 * 1024
_MAX_DECODINGS = 8


@dataclass(frozen=True)
class Target:
    """Where an ``mlflow-artifacts`` path points: a run and a path in its artifacts."""

    run: Run
    path: str


def safe_path(raw: str) -> str:
    """``raw`` as a normalized relative path; InvalidArgument if it is unsafe.

    Paths arrive decoded once. One still percent-encoded must not reveal a
    traversal either, however often a later reader decodes it (``%252e%252e``).
    """
    path = validate_artifact_path(raw)
    decoded = raw
    for _ in range(_MAX_DECODINGS):
        once_more = unquote(decoded)
        if once_more == decoded:
            break
        validate_artifact_path(once_more)
        decoded = once_more
    return path


def resolve(client: Client, raw: str, writing: bool = False) -> Target:
    """The run (or logged model) and relative path an artifact path names; NotFound if none."""
    parts = safe_path(raw).split("/")
    if len(parts) >= 3 and parts[2] == "artifacts":
        try:
            run = client.get_run(parts[1])
        except NotFound:
            run = None
        rest = parts[3:]
    elif len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        run = get_model_run(client, parts[2], allow_deleted=not writing)
        rest = parts[4:]
    else:
        run = None
    if run is None or run.info.experiment_id != parts[0]:
        raise NotFound(
            f"No artifacts at {raw[:200]!r}: artifact paths look like "
            "<experiment_id>/<run_id>/artifacts/<path>."
        )
    if writing and run.info.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidState(f"Run {run.info.run_id} is deleted: restore it before uploading.")
    return Target(run, "/".join(rest))


def _store(client: Client, target: Target, body: BinaryIO) -> None:
    blob = client.objects.put_stream(body)
    client.store.record_artifacts(
        target.run.info.run_id, [ArtifactEntry(target.path, blob.id, blob.size)]
    )


def _snapshot(raw: str, name_encoded: bool) -> SnapshotTarget:
    target = snapshot_target(raw, name_encoded=name_encoded)
    return replace(target, path=safe_path(target.path))


@router.put(PREFIX + "/{path:path}")
async def upload(path: str, request: Request, client: Client = Depends(service)) -> Response:
    if is_snapshot_path(path):
        refuse_write()
    target = await run_in_threadpool(resolve, client, path, True)
    if not target.path:
        raise InvalidArgument("Upload to a file path: <experiment>/<run>/artifacts/<file>.")
    body = io.BufferedReader(RequestBody(request.stream()), buffer_size=_BLOCK)
    await run_in_threadpool(_store, client, target, body)
    return ok()


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while block := stream.read(_BLOCK):
            yield block


def _media_type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    # Served from this origin: never let a browser run an uploaded page or script.
    if guessed.startswith("text/") or any(w in guessed for w in ("html", "script", "svg", "xml")):
        return "text/plain"
    return guessed


@router.get(PREFIX + "/{path:path}")
def download(
    path: str, client: Client = Depends(service), models: Registry = Depends(registry)
) -> StreamingResponse:
    if is_snapshot_path(path):
        # The URL path arrives decoded once: the name segment is the name itself.
        snapshot = _snapshot(path, name_encoded=False)
        if not snapshot.path:
            raise NotFound(f"No artifact file at {path[:200]!r}: it is a version's folder.")
        file, stream = models.open_model_version_file(
            snapshot.name, snapshot.version, snapshot.path
        )
        entry = ArtifactEntry(file.path, file.blob_id, file.size)
    else:
        target = resolve(client, path)
        entries = client.store.list_artifact_entries(target.run.info.run_id, target.path)
        found = next((e for e in entries if e.path == target.path), None)
        if found is None or not target.path:
            raise NotFound(f"No artifact file at {path[:200]!r}.")
        entry = found
        stream = client.objects.open(entry.blob_id)
    return StreamingResponse(
        _blocks(stream),
        media_type=_media_type(entry.path),
        headers={"Content-Length": str(entry.size), "X-Content-Type-Options": "nosniff"},
    )


class ListArtifacts(Message):
    path: str = ""


def children(client: Client, run_id: str, path: str) -> list[FileInfo]:
    """What MLflow lists at ``path`` of a run's artifacts: a folder's children, or nothing."""
    infos = client.list_artifacts(run_id, path or None)
    if len(infos) == 1 and not infos[0].is_dir and infos[0].path == path:
        return []  # a file, not a folder: MLflow lists nothing
    return infos


@router.get(PREFIX)
def list_artifacts(
    req: ListArtifacts = Depends(parsed(ListArtifacts)),
    client: Client = Depends(service),
    models: Registry = Depends(registry),
) -> Response:
    if is_snapshot_path(req.path):
        # The client form-encodes the URI's path: the name segment is still percent-encoded.
        infos = snapshot_children(models, _snapshot(req.path, name_encoded=True))
    else:
        target = resolve(client, req.path)
        infos = children(client, target.run.info.run_id, target.path)
    return ok({"files": [file_info_json(i, posixpath.basename(i.path)) for i in infos]})


class ListRunArtifacts(Message):
    run_id: str = ""
    run_uuid: str = ""
    path: str = ""
    page_token: str = ""


@router.get("/api/2.0/mlflow/artifacts/list")
def list_run_artifacts(
    req: ListRunArtifacts = Depends(parsed(ListRunArtifacts)), client: Client = Depends(service)
) -> Response:
    run = client.get_run(required(req.run_id or req.run_uuid, "run_id"))
    path = safe_path(req.path)
    infos = children(client, run.info.run_id, path)
    return ok(
        {
            "root_uri": run_artifact_uri(run.info),
            "files": [file_info_json(i, i.path) for i in infos],
        }
    )


@router.get("/api/3.0/mlflow/server-info")
def server_info() -> Response:
    """What the MLflow client probes before a download: no multipart transfers here."""
    return ok(
        {
            "workspaces_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }
    )
