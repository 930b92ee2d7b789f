"""Reading the values a permission names from a request: path, query, JSON body.

The body is read only for routes whose table entry names a body field, never
for streamed uploads. Starlette keeps the bytes on the request, so the handler
still receives them; the native API's strict request class answers ``json()``
with its validated model, which is read back as a dict.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from loopml.core.errors import InvalidArgument
from loopml.server._permissions import (
    BodyField,
    BodyTag,
    MlflowField,
    PathParam,
    QueryParam,
    Source,
)

_BODY = "loopml.authorization.body"


async def _body(request: Request) -> dict[str, Any]:
    """The JSON body as a dict ({} when empty or not an object); read once per request."""
    cached = request.scope.get(_BODY)
    if cached is not None:
        return dict(cached)
    data: object = {}
    if isinstance(getattr(request, "body_model", None), type):
        model = await request.json()  # the strict route's validated model (400 if invalid)
        data = model.model_dump() if isinstance(model, BaseModel) else model
    else:
        raw = await request.body()
        if raw.strip():
            try:
                data = json.loads(raw)
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise InvalidArgument(f"Malformed JSON in the request body: {exc}.") from None
    found = data if isinstance(data, dict) else {}
    request.scope[_BODY] = found
    return found


def _walk(data: object, dotted: str) -> object:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _strings(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None and v != ""]
    return [str(value)]


async def read(request: Request, source: Source) -> list[str]:
    """Every value ``source`` names in ``request`` (a list field gives several)."""
    if isinstance(source, PathParam):
        return _strings(request.path_params.get(source.name))
    if isinstance(source, QueryParam):
        return _strings(request.query_params.getlist(source.name))
    if isinstance(source, BodyField):
        return _strings(_walk(await _body(request), source.name))
    if isinstance(source, BodyTag):
        return _tag(await _body(request), source)
    return await _mlflow(request, source)


def _tag(body: dict[str, Any], source: BodyTag) -> list[str]:
    """The values of tag ``source.key`` in an MLflow tag list (``[{"key": k, "value": v}]``)."""
    tags = body.get(source.field)
    if not isinstance(tags, list):
        return []
    return [
        str(tag["value"])
        for tag in tags
        if isinstance(tag, dict) and tag.get("key") == source.key and tag.get("value")
    ]


async def _mlflow(request: Request, source: MlflowField) -> list[str]:
    for name in source.names:
        for key in (name, to_camel(name)):
            if request.method == "GET":
                values = _strings(request.query_params.getlist(key))
            else:
                values = _strings((await _body(request)).get(key))
                values = values or _strings(request.query_params.getlist(key))
            if values:
                return values
    return []
