"""``/api/v1/deployments``: deployment records, labels and the prediction log.

Handlers parse, call the ``Deployments`` service and render; every rule
(names, URIs, weights, segment validation) lives in the service, which the
remote SDK reaches through these routes (``loopml.deployments._rest``).
Prediction segments arrive as raw Parquet bodies, capped at 64 MiB (413), and
leave as raw bytes with their blob id as ``ETag``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from loopml.core.errors import InvalidArgument
from loopml.deployments import Deployments
from loopml.deployments._deployments import MAX_SEGMENT_BYTES
from loopml.server._deps import per_app, service
from loopml.server.native import _deployments_schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.server.native._schemas import Empty
from loopml.tracking import Client

router = APIRouter(prefix="/deployments", tags=["deployments"], route_class=StrictJsonRoute)

NAME = "/{name}"
PARQUET = "application/vnd.apache.parquet"
MAX_TIME = 2**63 - 1


def deployments(request: Request, client: Client = Depends(service)) -> Deployments:
    """The deployments service over this server's stores (built once per app)."""
    return per_app(request, "deployments", Deployments, client)


@router.post("", response_model=s.DeploymentOut, summary="Create a deployment")
def create_deployment(
    body: s.CreateDeployment, service: Deployments = Depends(deployments)
) -> s.DeploymentOut:
    created = service.create(
        body.name,
        body.model_uri,
        canary_uri=body.canary_uri,
        canary_weight=body.canary_weight,
        shadow_uri=body.shadow_uri,
        description=body.description,
        feature_service=body.feature_service,
    )
    return s.DeploymentOut(deployment=created)


@router.get("", response_model=s.DeploymentsOut, summary="List deployments, by name")
def list_deployments(service: Deployments = Depends(deployments)) -> s.DeploymentsOut:
    return s.DeploymentsOut(deployments=service.list())


@router.get(NAME, response_model=s.DeploymentOut, summary="Get a deployment")
def get_deployment(name: str, service: Deployments = Depends(deployments)) -> s.DeploymentOut:
    return s.DeploymentOut(deployment=service.get(name))


@router.patch(
    NAME,
    response_model=s.DeploymentOut,
    summary="Change the given fields of a deployment (null clears canary or shadow)",
)
def update_deployment(
    name: str, body: s.UpdateDeployment, service: Deployments = Depends(deployments)
) -> s.DeploymentOut:
    changes: dict[str, Any] = body.changes()
    for required in ("model_uri", "canary_weight", "description"):
        if required in changes and changes[required] is None:
            raise InvalidArgument(
                f"Invalid {required} null: only canary_uri, shadow_uri and feature_service clear."
            )
    return s.DeploymentOut(deployment=service.update(name, **changes))


@router.delete(NAME, response_model=Empty, summary="Delete a deployment (its prediction log stays)")
def delete_deployment(name: str, service: Deployments = Depends(deployments)) -> Empty:
    service.delete(name)
    return Empty()


@router.post(
    f"{NAME}/labels",
    response_model=s.LabelCount,
    summary="Attach labels to logged requests (labelling again overwrites)",
)
def log_labels(
    name: str, body: s.LogLabels, service: Deployments = Depends(deployments)
) -> s.LabelCount:
    labels = {item.request_id: item.label for item in body.labels}
    return s.LabelCount(count=service.log_labels(name, labels))


@router.get(
    f"{NAME}/labels",
    summary="Every label of a deployment's requests",
    responses={200: {"content": {"application/json": {}}}},
)
def get_labels(name: str, service: Deployments = Depends(deployments)) -> Response:
    columns = service.get_labels(name)
    # Labels are stored as JSON texts: splice them into the answer as they are.
    items = ",".join(
        '{"request_id":' + orjson.dumps(rid).decode() + ',"label":' + text + "}"
        for rid, text in zip(columns.request_ids, columns.labels_json, strict=True)
    )
    return Response('{"labels":[' + items + "]}", media_type="application/json")


@router.get(
    f"{NAME}/predictions",
    response_model=s.SegmentsOut,
    summary="The prediction-log segments that may hold rows in [since_ms, until_ms)",
)
def list_segments(
    name: str,
    since_ms: int | None = Query(None, ge=0, le=MAX_TIME),
    until_ms: int | None = Query(None, ge=0, le=MAX_TIME),
    service: Deployments = Depends(deployments),
) -> s.SegmentsOut:
    return s.SegmentsOut(segments=service.list_segments(name, since_ms, until_ms))


@router.post(
    f"{NAME}/predictions",
    response_model=s.SegmentOut,
    summary="Upload one Parquet segment of the prediction log",
    description="The segment is checked (Parquet, the log's columns, rows of this deployment) "
    "before it is stored and indexed; its time span is read from its rows.",
    openapi_extra={
        "requestBody": {
            "required": True,
            # Any content type is read as Parquet; octet-stream is what generic clients send.
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_segment(
    name: str, request: Request, service: Deployments = Depends(deployments)
) -> s.SegmentOut:
    data = await _capped_body(request)
    segment = await run_in_threadpool(service.add_segment, name, data)
    return s.SegmentOut(segment=segment)


@router.get(
    f"{NAME}/predictions/{{segment_id}}",
    summary="Download one segment of the prediction log",
    response_class=Response,
    responses={200: {"content": {PARQUET: {}}}},
)
def download_segment(
    name: str,
    segment_id: int = Path(..., ge=1, le=MAX_TIME),
    service: Deployments = Depends(deployments),
) -> Response:
    segment, data = service.segment_bytes(name, segment_id)
    return Response(data, media_type=PARQUET, headers={"ETag": f'"{segment.blob_id}"'})


async def _capped_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SEGMENT_BYTES:
        raise _too_large()
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_SEGMENT_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> HTTPException:
    return HTTPException(
        413, f"The prediction segment is larger than {MAX_SEGMENT_BYTES // 2**20} MiB."
    )
