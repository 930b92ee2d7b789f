"""The audit middleware: one audit entry per mutating request, once its status is known.

A pure ASGI middleware, so request bodies stream past untouched (uploads are
never buffered) and nothing of a body is read. When the response's last body
message is about to go out (or the app failed), it appends an entry with who
(``state.principal``, set by the authentication middleware; ``anonymous`` when
there is none), the request id, the client address, the matched route as the
action, the object named by the route's path parameters, and a summary
(method, path, status, path and query parameters minus secrets, outcome
``ok``/``denied``/``error``). Refusals (401, 403, 429) are recorded too, at most
one per client address and user a second, so a flood of anonymous attempts
cannot flood the log; the next recorded refusal counts the ones skipped.

Reads (GET, HEAD, OPTIONS), the POST routes that only read (searches,
lookups) and the answers whose handlers record themselves (logins, tokens)
are not recorded here. Recording never turns an answer into an error: a
failed append is logged at ERROR level with the request id, and the answer
goes out as it was.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopml.governance._audit import AuditLog
from loopml.governance._audit_fields import REDACTED, is_secret_key
from loopml.server._audit_objects import (
    READ_ONLY_POSTS,
    object_of,
    recorded_by_handler,
    route_template,
)

log = logging.getLogger("loopml.server.audit")

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DENIED = frozenset({401, 403, 429})
DENIED_PER_SECOND = 1.0
_THROTTLE_KEYS = 4096
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_MISSING = object()


def outcome_of(status: int) -> str:
    """``ok`` for 1xx-3xx, ``denied`` for refusals, ``error`` for the rest."""
    if status in DENIED:
        return "denied"
    return "ok" if status < 400 else "error"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _query(scope: Scope) -> dict[str, Any]:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    found: dict[str, Any] = {}
    for key, value in pairs:
        found[key] = REDACTED if is_secret_key(key) else value
    return found


class RefusalThrottle:
    """Lets through at most one refusal per key a second; counts the ones it held back."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()

    def admit(self, key: tuple[str, str]) -> int | None:
        """None to skip this one; else how many were skipped since the last admitted."""
        now = self._clock()
        last, skipped = self._last.get(key, (float("-inf"), 0))
        if now - last < DENIED_PER_SECOND:
            self._last[key] = (last, skipped + 1)
            return None
        self._last[key] = (now, 0)
        self._last.move_to_end(key)
        while len(self._last) > _THROTTLE_KEYS:
            self._last.popitem(last=False)
        return skipped


class AuditMiddleware:
    """Records each mutating request of ``app`` in the audit log of the server's store."""

    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner
        self._throttle = RefusalThrottle()

    def _audit_log(self) -> AuditLog:
        """The audit log over the app's client, built once (again if a test swaps the client)."""
        state = self.owner.state
        found: AuditLog | None = getattr(state, "audit_log", None)
        if found is None or found.client is not state.client:
            found = AuditLog(state.client)
            state.audit_log = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        status = 0
        recorded = False

        async def sending(message: Message) -> None:
            nonlocal status, recorded
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = self._with_request_id(scope, message)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                recorded = True
                await self._record(scope, status)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            if not recorded:
                recorded = True
                await self._record(scope, status or 500)
            raise
        if not recorded:
            await self._record(scope, status or 500)

    def _with_request_id(self, scope: Scope, message: Message) -> Message:
        """Echo the request id when no authentication middleware set one (it echoes its own)."""
        state = scope.setdefault("state", {})
        if "request_id" in state:
            return message
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state["request_id"] = request_id
        headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
        return {**message, "headers": headers}

    async def _record(self, scope: Scope, status: int) -> None:
        template = route_template(scope)
        if template in READ_ONLY_POSTS or recorded_by_handler(template, status):
            return
        state: Mapping[str, Any] = scope.get("state") or {}
        principal = state.get("principal", _MISSING)
        actor = "anonymous" if principal is None or principal is _MISSING else principal.name
        client = scope.get("client")
        source = str(client[0]) if client else ""
        outcome = outcome_of(status)
        skipped = 0
        if outcome == "denied":
            admitted = self._throttle.admit((source, actor))
            if admitted is None:
                return
            skipped = admitted
        request_id = str(state.get("request_id") or "")
        if not request_id:
            given = _header(scope, b"x-request-id")
            request_id = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        params = dict(scope.get("path_params") or {})
        query = _query(scope)
        object_type, object_id = object_of(template, params, query)
        route = scope.get("route")
        name = getattr(route, "name", None)
        summary: dict[str, Any] = {
            "method": scope["method"],
            "path": scope.get("path", ""),
            "status": status,
            "outcome": outcome,
            "path_params": params,
            "query": query,
        }
        if principal is not _MISSING and principal is not None and principal.token_id:
            summary["token_id"] = principal.token_id
        if skipped:
            summary["refusals_not_recorded"] = skipped
        record = partial(
            self._audit_log().record,
            actor=actor,
            action=name or f"{scope['method']} {template or scope.get('path', '')}",
            object_type=object_type,
            object_id=object_id,
            summary=summary,
            request_id=request_id,
            source=source,
        )
        try:
            await to_thread.run_sync(record)
        except Exception:
            log.exception(
                "The audit entry of %s %s (request %s, status %s) could not be recorded",
                scope["method"],
                scope.get("path", ""),
                request_id,
                status,
            )


def install_audit(app: FastAPI) -> None:
    """Record every mutating request of ``app`` in its store's audit log."""
    app.add_middleware(AuditMiddleware, owner=app)
