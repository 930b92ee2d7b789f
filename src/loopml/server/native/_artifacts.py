"""``/api/v1/runs/{run_id}/artifacts``: streamed upload and download, listing, index.

Uploads stream the request body into the object store (no size limit beyond
the disk, no temporary file); downloads stream the stored bytes back with
their blob id as ``ETag``, so a client can verify what it got. Paths are
confined to the run's artifacts: relative, no ``..``, no backslash or NUL,
and no percent-encoded dots, slashes or NULs left after the URL is decoded.
"""

from __future__ import annotations

import re
from typing import BinaryIO, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from loopml.core.errors import InvalidArgument
from loopml.server._body import RequestBody
from loopml.server._deps import service
from loopml.server.native import _schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.server.native._streaming import blob_response
from loopml.tracking import Client

router = APIRouter(prefix="/runs/{run_id}", tags=["artifacts"], route_class=StrictJsonRoute)

_ENCODED = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)


def artifact_path(path: str) -> str:
    """The decoded URL path, refused if it still hides an encoded traversal."""
    if _ENCODED.search(path):
        raise InvalidArgument(
            f"Invalid artifact path {path!r}: it holds a percent-encoded '.', '/', '\\' or NUL."
        )
    return path


@router.put(
    "/artifacts/{path:path}",
    response_model=s.EntryOut,
    summary="Upload one artifact file (the raw request body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_artifact(
    run_id: str, path: str, request: Request, client: Client = Depends(service)
) -> s.EntryOut:
    target = artifact_path(path)
    reader = cast(BinaryIO, RequestBody(request.stream()))
    entry = await run_in_threadpool(client.log_artifact_stream, run_id, reader, target)
    return s.EntryOut(entry=entry)


@router.get("/artifacts", response_model=s.Files, summary="List the files and folders in a folder")
def list_artifacts(
    run_id: str,
    path: str = Query("", description="A folder of the run's artifacts; the root by default."),
    client: Client = Depends(service),
) -> s.Files:
    return s.Files(files=client.list_artifacts(run_id, artifact_path(path)))


@router.get(
    "/artifacts/{path:path}",
    summary="Download one artifact file",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_artifact(
    run_id: str, path: str, client: Client = Depends(service)
) -> StreamingResponse:
    entry, reader = client.open_artifact(run_id, artifact_path(path))
    return blob_response(reader, entry.size, entry.blob_id)


@router.get(
    "/artifact-entries",
    response_model=s.Entries,
    summary="Every artifact file at or below a prefix, with its blob id and size",
)
def list_artifact_entries(
    run_id: str, prefix: str = Query(""), client: Client = Depends(service)
) -> s.Entries:
    return s.Entries(entries=client.list_artifact_entries(run_id, artifact_path(prefix)))


@router.post(
    "/artifact-entries",
    response_model=s.Empty,
    summary="Index contents the server stores already under new paths",
)
def index_artifacts(
    run_id: str, body: s.IndexArtifacts, client: Client = Depends(service)
) -> s.Empty:
    client.index_artifacts(run_id, body.entries)
    return s.Empty()
