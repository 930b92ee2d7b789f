"""MLflow's request messages: parsed from a JSON body or a query string, answered in JSON.

The MLflow client sends proto3 JSON with the proto field names (``run_id``), int64
fields as numbers, enums by name and doubles as numbers or ``"NaN"``/``"Infinity"``;
GET requests carry the same fields as query parameters, repeated ones repeated. Each
request is one pydantic model below; anything that does not fit it is an
``InvalidArgument`` (400, ``INVALID_PARAMETER_VALUE``) naming the field, and unknown
fields are ignored, as MLflow's server does.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar, get_origin

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from loopml.core.errors import InvalidArgument

M = TypeVar("M", bound="Message")
T = TypeVar("T")


def _double(value: object) -> object:
    # proto3 JSON doubles: a number, or a string such as "NaN", "Infinity", "-1.5".
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"expected a number, got the string {value[:40]!r}") from None
    return value


Double = Annotated[float, BeforeValidator(_double)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class Message(BaseModel):
    """A request message: proto field names or their camelCase JSON names, extras ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
        frozen=True,
    )


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "Invalid request: " + "; ".join(parts)


def validate(model: type[M], data: object) -> M:
    """``data`` as a ``model`` message; InvalidArgument naming the bad fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidArgument(_describe(exc)) from None


def _query_dict(model: type[Message], request: Request) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        for key in (name, field.alias):
            if key and key in request.query_params:
                values = request.query_params.getlist(key)
                data[name] = values if get_origin(field.annotation) is list else values[-1]
    return data


async def _body_dict(request: Request) -> object:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)  # fast path; the mlflow client sends strict JSON
    except orjson.JSONDecodeError:
        pass  # NaN/Infinity constants, or truly malformed: the standard parser decides
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgument(f"Malformed JSON in the request body: {exc}.") from None
    except RecursionError:
        raise InvalidArgument("The JSON request body is nested too deeply.") from None


def parsed(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A FastAPI dependency reading ``model`` from the query (GET) or the JSON body."""

    async def dependency(request: Request) -> M:
        if request.method == "GET":
            return validate(model, _query_dict(model, request))
        data = await _body_dict(request)
        if not isinstance(data, dict):
            raise InvalidArgument(
                f"The request body must be a JSON object, got {type(data).__name__}."
            )
        return validate(model, data)

    return dependency


def required(value: str, name: str) -> str:
    """``value`` if set; MLflow's message for a missing required field otherwise."""
    if not value:
        raise InvalidArgument(f"Missing value for required parameter '{name}'.")
    return value


def double(value: float) -> float | str:
    """A double as proto3 JSON writes it: NaN and infinities as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def ok(payload: dict[str, Any] | None = None) -> Response:
    """A 200 answer; ``payload`` must already be JSON-safe (see ``double``).

    Encoded with orjson: histories and searches are long lists, and the
    standard encoder was most of the server's time for them.
    """
    return Response(orjson.dumps(payload or {}), media_type="application/json")


_ENUMS: dict[str, tuple[str, ...]] = {
    # Index = the proto enum number, as MLflow numbers them.
    "RunStatus": ("", "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"),
    "ViewType": ("", "ACTIVE_ONLY", "DELETED_ONLY", "ALL"),
    "LoggedModelStatus": (
        "LOGGED_MODEL_STATUS_UNSPECIFIED",
        "LOGGED_MODEL_PENDING",
        "LOGGED_MODEL_READY",
        "LOGGED_MODEL_UPLOAD_FAILED",
    ),
}


def enum_name(enum: str, value: str | int | None, field: str) -> str | None:
    """An enum field sent by name or by number, as its name; None when absent."""
    if value is None or value == "":
        return None
    names = _ENUMS[enum]
    text = str(value).strip()
    if text.isdigit() and 0 < int(text) < len(names):
        return names[int(text)]
    if text.upper() in names and text:
        return text.upper()
    valid = ", ".join(n for n in names if n)
    raise InvalidArgument(f"Invalid value {value!r} for '{field}': use one of {valid}.")


class KeyValue(Message):
    """A tag or param: ``{"key": ..., "value": ...}``."""

    key: str = ""
    value: str = ""


def page_of(items: Sequence[T], max_results: int, page_token: str) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next (an offset, as MLflow's tokens are)."""
    if not 0 < max_results <= 50_000:
        raise InvalidArgument(f"max_results must be between 1 and 50000, got {max_results}.")
    offset = 0
    if page_token:
        try:
            offset = json.loads(base64.urlsafe_b64decode(page_token.encode()))["offset"]
        except (binascii.Error, ValueError, KeyError, TypeError):
            offset = -1
        if not isinstance(offset, int) or offset < 0:
            raise InvalidArgument(f"Invalid page token {page_token!r}: pass back a token you got.")
    end = offset + max_results
    token = None
    if end < len(items):
        token = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode()
    return list(items[offset:end]), token
