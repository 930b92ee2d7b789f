"""``POST /api/v1/features/online``: feature values for entity rows, from the online store.

The body names the features (``features``: ``["view:feature", ...]``, or
``feature_service``) and the entities (``entity_rows``: a list of objects, or
``entities``: columns); on-demand views take their request fields from the
rows or from ``request_data``. The answer is columnar: per feature, one value,
one event timestamp (epoch ms, null where no row is stored) and one
staleness flag per entity row. Redis down answers 503 quickly.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from loopml.core.errors import InvalidArgument
from loopml.features._online_service import OnlineFeatures
from loopml.server._deps import per_app, service
from loopml.server.native._route import StrictJsonRoute
from loopml.tracking import Client

router = APIRouter(tags=["features"], route_class=StrictJsonRoute)


class OnlineRequest(BaseModel):
    """Exactly one of features/feature_service, and one of entity_rows/entities."""

    model_config = ConfigDict(extra="forbid", strict=True)

    features: list[str] | None = Field(default=None, description="'view:feature' references.")
    feature_service: str | None = Field(default=None, description="A feature service's name.")
    entity_rows: list[dict[str, Any]] | None = Field(
        default=None, description="One object per entity: join keys (and request fields)."
    )
    entities: dict[str, list[Any]] | None = Field(
        default=None, description="The same as columns: name -> one value per entity."
    )
    request_data: dict[str, list[Any]] | None = Field(
        default=None, description="Request-time columns for on-demand views."
    )
    full_feature_names: bool = Field(default=False, description="Name outputs 'view__feature'.")


def online_features(request: Request, client: Client = Depends(service)) -> OnlineFeatures:
    """The online lookups of this server (definitions and online store of its settings)."""
    return per_app(request, "online_features", OnlineFeatures, client)


@router.post("/features/online", summary="Look up online feature values for entity rows")
def get_online_features(
    body: OnlineRequest, lookups: OnlineFeatures = Depends(online_features)
) -> Response:
    if (body.features is None) == (body.feature_service is None):
        raise InvalidArgument("Give exactly one of 'features' and 'feature_service'.")
    if (body.entity_rows is None) == (body.entities is None):
        raise InvalidArgument("Give exactly one of 'entity_rows' and 'entities'.")
    rows: Any = body.entity_rows if body.entity_rows is not None else body.entities
    wanted: Any = body.features if body.features is not None else body.feature_service
    result = lookups.get_online(
        wanted, rows, body.request_data, full_feature_names=body.full_feature_names
    )
    content = orjson.dumps(result.to_dict(), default=_json_value)
    return Response(content, 200, media_type="application/json")


def _json_value(value: Any) -> Any:
    """What orjson cannot write itself: bytes features as base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
