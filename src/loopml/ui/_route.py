"""Errors on a page become a page: a user who follows a stale link sees why, not JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from loopml.core.errors import LoopmlError
from loopml.ui._render import render


def error_page(request: Request, status: int, message: str) -> Response:
    """The error page with ``status``: what went wrong, in words, and a way back."""
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return render(
        request, "error.html", status_code=status, code=status, reason=reason, message=message
    )


class PageRoute(APIRoute):
    """A route whose ``LoopmlError`` and bad query parameters answer with ``error.html``.

    The status stays the error's own (404, 400, ...), so scripts and tests still see it.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoopmlError as exc:
                return error_page(request, exc.http_status, exc.message)
            except RequestValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
                    for e in exc.errors()[:5]
                )
                return error_page(request, 400, f"Invalid request: {problems}")

        return handle
