"""Remote mode: deployments of a loopml server, over its native API (``/api/v1/deployments``).

``RestDeploymentStore`` implements ``DeploymentStore`` with the tracking
client's HTTP session (``RestTrackingStore``: one keep-alive connection pool,
and the one seam where httpx failures and error bodies become
``LoopmlError``s), so ``Deployments`` behaves the same embedded and remote.
Prediction segments travel as raw Parquet bytes; the server validates them
and stores them in its object store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson
from pydantic import TypeAdapter

from loopml.core.errors import CorruptObject
from loopml.core.hashing import hash_bytes
from loopml.store import Deployment, DeploymentStore, LabelColumns, PredictionSegment
from loopml.tracking._rest import RestTrackingStore, error_of

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
LABELS_PER_REQUEST = 10_000  # keeps each JSON body far below the server's 64 MiB cap

_DEPLOYMENT = TypeAdapter(Deployment)
_DEPLOYMENTS = TypeAdapter(list[Deployment])
_SEGMENT = TypeAdapter(PredictionSegment)
_SEGMENTS = TypeAdapter(list[PredictionSegment])


def _path(name: str) -> str:
    return f"/deployments/{quote(name, safe='')}"


class RestDeploymentStore(DeploymentStore):
    """The deployments of the loopml server that ``tracking`` talks to."""

    def __init__(self, tracking: RestTrackingStore) -> None:
        self.tracking = tracking

    def _call(
        self, method: str, path: str, payload: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        return self.tracking.call(method, path, payload, params)

    # -- deployments ------------------------------------------------------------------
    def create_deployment(
        self,
        name: str,
        model_uri: str,
        *,
        canary_uri: str | None,
        canary_weight: float,
        shadow_uri: str | None,
        description: str,
        feature_service: str | None = None,
    ) -> Deployment:
        payload = {
            "name": name,
            "model_uri": model_uri,
            "canary_uri": canary_uri,
            "canary_weight": canary_weight,
            "shadow_uri": shadow_uri,
            "description": description,
            "feature_service": feature_service,
        }
        return _DEPLOYMENT.validate_python(
            self._call("POST", "/deployments", payload)["deployment"]
        )

    def get_deployment(self, name: str) -> Deployment:
        return _DEPLOYMENT.validate_python(self._call("GET", _path(name))["deployment"])

    def list_deployments(self) -> list[Deployment]:
        return _DEPLOYMENTS.validate_python(self._call("GET", "/deployments")["deployments"])

    def update_deployment(self, name: str, changes: Mapping[str, Any]) -> Deployment:
        body = self._call("PATCH", _path(name), dict(changes))
        return _DEPLOYMENT.validate_python(body["deployment"])

    def delete_deployment(self, name: str) -> None:
        self._call("DELETE", _path(name))

    # -- prediction log -----------------------------------------------------------------
    def list_segments(
        self, deployment: str, since_ms: int | None = None, until_ms: int | None = None
    ) -> list[PredictionSegment]:
        params: dict[str, Any] = {}
        if since_ms is not None:
            params["since_ms"] = since_ms
        if until_ms is not None:
            params["until_ms"] = until_ms
        body = self._call("GET", f"{_path(deployment)}/predictions", params=params)
        return _SEGMENTS.validate_python(body["segments"])

    def set_labels(self, deployment: str, labels: Sequence[tuple[str, str]]) -> int:
        # Labels are already JSON texts: splice them in rather than decode and re-encode.
        stored = 0
        for start in range(0, len(labels), LABELS_PER_REQUEST):
            items = ",".join(
                '{"request_id":' + orjson.dumps(rid).decode() + ',"label":' + text + "}"
                for rid, text in labels[start : start + LABELS_PER_REQUEST]
            )
            body = ('{"labels":[' + items + "]}").encode()
            answer = self.tracking.call("POST", f"{_path(deployment)}/labels", body=body)
            stored += int(answer["count"])
        return stored

    def get_labels(self, deployment: str) -> LabelColumns:
        with self.tracking.reaching():
            response = self.tracking.http.get(f"{_path(deployment)}/labels")
        if not response.is_success:
            raise error_of(response)
        rows = orjson.loads(response.content)["labels"]
        return LabelColumns(
            [row["request_id"] for row in rows],
            [orjson.dumps(row["label"]).decode() for row in rows],
        )

    def upload_segment(self, deployment: str, data: bytes) -> PredictionSegment:
        """Send a Parquet segment; the server validates, stores and indexes it."""
        with self.tracking.reaching():
            response = self.tracking.http.post(
                f"{_path(deployment)}/predictions",
                content=data,
                headers={"Content-Type": PARQUET_MEDIA_TYPE},
            )
        if not response.is_success:
            raise error_of(response)
        return _SEGMENT.validate_python(response.json()["segment"])

    def download_segment(self, segment: PredictionSegment) -> bytes:
        """A segment's bytes, checked against its blob id (its BLAKE3 hash)."""
        path = f"{_path(segment.deployment)}/predictions/{int(segment.id)}"
        with self.tracking.reaching():
            response = self.tracking.http.get(path)
        if not response.is_success:
            raise error_of(response)
        data = response.content
        if hash_bytes(data) != segment.blob_id:
            raise CorruptObject(
                f"Prediction segment {segment.id} of {segment.deployment!r} arrived damaged "
                "(its hash does not match): try again."
            )
        return data
