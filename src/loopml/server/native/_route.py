"""Request bodies validated straight from the JSON bytes, in strict mode, size-capped.

FastAPI decodes a body with ``json.loads`` and validates the Python value in
lax mode, where ``"1.5"`` passes as a float and ``1.0`` as an int. This
route class validates the raw bytes with pydantic's JSON parser in strict
mode instead: wrong types and unknown fields are 400s, NaN and Infinity are
accepted as metric values, and a large batch is parsed about twice as fast.
The body model still documents the endpoint in the OpenAPI schema.

A JSON body larger than ``MAX_JSON_BODY`` is refused with 413 (in the
error shape of every other error) before more of it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

MAX_JSON_BODY = 64 * 1024 * 1024


def describe(exc: ValidationError) -> str:
    """The first few validation errors as one line, naming where each is."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def _too_large() -> HTTPException:
    return HTTPException(
        413, f"The JSON body is larger than {MAX_JSON_BODY // (1024 * 1024)} MiB: split the batch."
    )


class _StrictJsonRequest(Request):
    body_model: type[BaseModel]

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_JSON_BODY:
                raise _too_large()
            chunks, total = [], 0
            async for chunk in self.stream():
                total += len(chunk)
                if total > MAX_JSON_BODY:
                    raise _too_large()
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = self.body_model.model_validate_json(await self.body(), strict=True)
            except ValidationError as exc:
                # FastAPI passes HTTPException through; other errors lose their detail.
                raise HTTPException(400, describe(exc)) from exc
        return self._json


class StrictJsonRoute(APIRoute):
    """An ``APIRoute`` whose single JSON body model is validated strictly from bytes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        model = self._body_model()
        if model is None:
            return handler
        request_class = type("StrictJsonRequest", (_StrictJsonRequest,), {"body_model": model})

        async def strict_handler(request: Request) -> Response:
            return await handler(request_class(request.scope, request.receive))

        return strict_handler

    def _body_model(self) -> type[BaseModel] | None:
        field = self.body_field
        annotation = getattr(getattr(field, "field_info", None), "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        return None
