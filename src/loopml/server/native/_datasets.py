"""``/api/v1/datasets`` and ``/api/v1/dataset-content``: the dataset registry over HTTP.

Handlers parse, call the ``Datasets`` service and render; every rule (names,
versions, that a version's content is stored whole) lives in the service,
which the remote SDK reaches through these routes (``loopml.datasets._rest``).
A remote client registers a path in three steps: it asks which objects are
missing, uploads those (streamed; each checked against its id) and the
folder's tree, then creates the version, which is refused unless the content
is all there.
"""

from __future__ import annotations

from typing import BinaryIO, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from loopml.datasets import Datasets
from loopml.objects import TreeEntry
from loopml.server._body import RequestBody
from loopml.server._deps import per_app, service
from loopml.server.native import _datasets_schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.tracking import Client

router = APIRouter(tags=["datasets"], route_class=StrictJsonRoute)

NAME = "/datasets/{name}"


def datasets(request: Request, client: Client = Depends(service)) -> Datasets:
    """The datasets service over this server's stores (built once per app)."""
    return per_app(request, "datasets", Datasets, client)


@router.post(
    f"{NAME}/versions",
    response_model=s.RegistrationOut,
    status_code=201,
    summary="Record stored content as the dataset's next version",
    description="Answers 201 with a new version, or 200 with the version that already holds "
    "this content. 400 unless the content (and every file of a tree) is stored.",
)
def create_version(
    name: str,
    body: s.CreateDatasetVersion,
    response: Response,
    service: Datasets = Depends(datasets),
) -> s.RegistrationOut:
    registration = service.record(name, body.new_version())
    if not registration.created:
        response.status_code = 200
    return s.RegistrationOut(dataset_version=registration.version, created=registration.created)


@router.get("/datasets", response_model=s.DatasetsOut, summary="Datasets and their newest versions")
def list_datasets(service: Datasets = Depends(datasets)) -> s.DatasetsOut:
    return s.DatasetsOut(datasets=service.list())


@router.get(
    f"{NAME}/versions", response_model=s.VersionsOut, summary="A dataset's versions, newest first"
)
def list_versions(name: str, service: Datasets = Depends(datasets)) -> s.VersionsOut:
    return s.VersionsOut(dataset_versions=service.versions(name))


@router.get(
    f"{NAME}/versions/{{version}}",
    response_model=s.VersionOut,
    summary="One version of a dataset ('latest' for the newest)",
)
def get_version(name: str, version: str, service: Datasets = Depends(datasets)) -> s.VersionOut:
    found = service.latest(name) if version == "latest" else service.get(name, version)
    return s.VersionOut(dataset_version=found)


@router.post(
    "/dataset-content/missing",
    response_model=s.MissingOut,
    summary="Which of these object ids the server does not store",
)
def missing_content(body: s.ObjectIds, service: Datasets = Depends(datasets)) -> s.MissingOut:
    return s.MissingOut(missing=service.missing_content(body.ids))


@router.put(
    "/dataset-content/objects/{object_id}",
    response_model=s.ObjectOut,
    summary="Upload one content (the raw request body), checked against its id",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_content(
    object_id: str, request: Request, service: Datasets = Depends(datasets)
) -> s.ObjectOut:
    reader = cast(BinaryIO, RequestBody(request.stream()))
    size = await run_in_threadpool(service.store_content, object_id, reader)
    return s.ObjectOut(id=object_id, size=size)


@router.post(
    "/dataset-content/trees", response_model=s.TreeOut, summary="Store the tree of a folder"
)
def store_tree(body: s.TreeBody, service: Datasets = Depends(datasets)) -> s.TreeOut:
    entries = {path: TreeEntry(e.id, e.size, e.mode) for path, e in body.entries.items()}
    return s.TreeOut(tree_id=service.store_tree(entries))
