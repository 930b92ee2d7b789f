"""Authentication of every request: one pure ASGI middleware, outermost in the app.

For each HTTP request it sets ``request.state.request_id`` (an incoming
well-formed ``X-Request-ID``, else a new one, echoed in the response) and
``request.state.principal``:

- auth off (the embedded default): ``Principal(<X-Loopml-User or the OS user>,
  via="local")``, which may do everything;
- auth on: the user or service account proved by a token, a password or the UI's
  session cookie (``_auth_credentials``). Anonymous requests reach only
  ``PUBLIC_PATHS``; the rest get 401 (API) or a redirect to ``/login`` (pages).
  State-changing requests of a browser session must carry its CSRF token
  (``_auth_csrf``).

``authorize_request`` is the one place a per-request authorization check hooks
in. Bodies are never buffered here (artifact uploads stream through), except a
URL-encoded form whose CSRF field must be read; it is replayed to the app.
"""

from __future__ import annotations

import getpass
import json
import logging
import math
import re
import uuid
from collections.abc import Iterable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopml.core.errors import LoopmlError, Unauthenticated
from loopml.governance import AuditLog, Governance, Principal
from loopml.server._auth_credentials import (
    SESSION_COOKIE,
    Authenticator,
    Credentials,
    Identity,
    cookie_value,
    parse_authorization,
)
from loopml.server._auth_csrf import check_csrf
from loopml.server._deps import per_app
from loopml.ui._route import error_page

log = logging.getLogger("loopml.server.auth")

# The paths an anonymous request may reach, and nothing else. An entry ending in "/"
# covers everything below it. /metrics joins them only with `--public-metrics`.
PUBLIC_PATHS: tuple[str, ...] = ("/healthz", "/readyz", "/health", "/login", "/static/")
METRICS_PATH = "/metrics"
LOGIN_PATH = "/login"

# Paths whose callers are programs: refusals are 401 JSON, never a redirect to a page.
API_PREFIXES = ("/api/", "/ajax-api/", "/ui/api/", "/metrics", "/openapi.json")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


def is_public(path: str, *, public_metrics: bool = False) -> bool:
    """Whether an anonymous request may reach ``path``."""
    if public_metrics and (path == METRICS_PATH or path.startswith(METRICS_PATH + "/")):
        return True
    return any(
        path.startswith(entry) if entry.endswith("/") else path == entry for entry in PUBLIC_PATHS
    )


def is_api_path(path: str) -> bool:
    """Whether ``path`` is for programs (JSON answers) rather than a browser page."""
    return path.startswith(API_PREFIXES)


def request_id_of(headers: Headers) -> str:
    """The caller's ``X-Request-ID`` when well formed (so logs join up), else a new one."""
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _os_user() -> str:
    try:
        return getpass.getuser() or "local"
    except (OSError, KeyError):  # no login name in a bare container
        return "local"


def local_principal(headers: Headers, os_user: str) -> Principal:
    """The embedded-mode principal: ``X-Loopml-User`` if well formed, else the OS user."""
    given = headers.get("x-loopml-user", "").strip()
    return Principal(name=given if _USER_NAME.match(given) else os_user, via="local")


def authorize_request(principal: Principal | None, scope: Scope) -> None:
    """The hook for a per-request authorization check (none yet: roles are in the services).

    Called for every HTTP request after authentication, with the principal
    (None on a public path reached anonymously); raise a ``LoopmlError``
    (``PermissionDenied``) to refuse the request.
    """
    return None


def login_location(path: str, query: str = "") -> str:
    """``/login?next=<this page>`` (the page is a local path, so the redirect stays here)."""
    target = path + ("?" + query if query else "")
    return f"{LOGIN_PATH}?next={quote(target, safe='/')}"


class AuthMiddleware:
    """Sets the principal and request id of every request; refuses the anonymous ones.

    ``auth=False`` never refuses anything (the single-user default). With
    ``auth=True`` the governance service of the app's client checks every
    credential.
    """

    def __init__(self, app: ASGIApp, *, auth: bool = False, public_metrics: bool = False) -> None:
        self.app = app
        self.auth = auth
        self.public_metrics = public_metrics
        self._os_user = _os_user()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = request_id_of(headers)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        send = _echo_request_id(send, request_id)
        if not self.auth:
            state["principal"] = local_principal(headers, self._os_user)
            await self._call_app(scope, receive, send)
            return
        path: str = scope["path"]
        public = is_public(path, public_metrics=self.public_metrics)
        cookie_only = "authorization" not in headers
        try:
            identity = await self._identify(scope, headers)
        except LoopmlError as exc:
            if not (cookie_only and public):
                # A stale session cookie on a page asks for a login again (and is dropped).
                dead = cookie_only and isinstance(exc, Unauthenticated)
                await self._refuse(scope, send, exc, clear_cookie=dead)
                return
            identity = None  # a dead cookie does not lock anyone out of a public page
        if identity is None:
            state["principal"] = None
            if public:
                await self._call_app(scope, receive, send)
            else:
                await self._refuse(scope, send, Unauthenticated(_ANONYMOUS))
            return
        state["principal"] = identity.principal
        await self._note_token_use(scope, identity.principal)
        if identity.csrf_token is not None:
            state["csrf_token"] = identity.csrf_token
            if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
                try:
                    receive = await check_csrf(scope, receive, identity.csrf_token)
                except LoopmlError as exc:
                    await self._refuse(scope, send, exc)
                    return
        await self._call_app(scope, receive, send)

    async def _identify(self, scope: Scope, headers: Headers) -> Identity | None:
        """Who the request's credentials prove (None: it offered none)."""
        authorization = headers.get("authorization")
        if authorization is not None:
            credentials = parse_authorization(authorization)
        else:
            credentials = Credentials(cookie=cookie_value(headers.get("cookie", "")))
        if not credentials.offered:
            return None
        return await run_in_threadpool(self._authenticator(scope).identify, credentials)

    async def _note_token_use(self, scope: Scope, principal: Principal) -> None:
        """Audit a token's use (reads included), at most once a minute per token."""
        token_id = principal.token_id
        if token_id is None or not self._authenticator(scope).token_use_due(token_id):
            return
        request = Request(scope)
        try:
            await run_in_threadpool(
                AuditLog(request.app.state.client).record,
                actor=principal.name,
                action="token.use",
                object_type="api_token",
                object_id=token_id,
                summary={"method": scope.get("method", ""), "path": scope.get("path", "")},
                request_id=scope["state"].get("request_id", ""),
                source=request.client.host if request.client else "",
            )
        except Exception:  # an audit failure never refuses a request; it is logged
            log.exception("Could not audit the use of token %s", token_id)

    async def _call_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            authorize_request(scope["state"].get("principal"), scope)
        except LoopmlError as exc:
            await self._refuse(scope, send, exc)
            return
        await self.app(scope, receive, send)

    def _authenticator(self, scope: Scope) -> Authenticator:
        """The app's authenticator, over the governance service of its (current) client."""
        request = Request(scope)
        governance = per_app(request, "governance", Governance, request.app.state.client)
        found: Authenticator | None = getattr(request.app.state, "authenticator", None)
        if found is None or found.governance is not governance:
            found = Authenticator(governance)
            request.app.state.authenticator = found
        return found

    async def _refuse(
        self, scope: Scope, send: Send, error: LoopmlError, *, clear_cookie: bool = False
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": error.message[:120]})
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        unauthenticated = isinstance(error, Unauthenticated) and error.http_status == 401
        if unauthenticated and not is_api_path(path):
            if "hx-request" in headers:  # htmx follows HX-Redirect with a full page load
                extra = [("hx-redirect", login_location(path))]
                await _send(send, 401, error, extra, clear_cookie, scope)
                return
            if scope["method"] in ("GET", "HEAD"):
                query = scope.get("query_string", b"").decode("latin-1")
                location = login_location(path, query)
            else:
                location = LOGIN_PATH
            await _send_redirect(send, location, clear_cookie, scope)
            return
        extra = []
        retry = getattr(error, "retry_after_seconds", None)
        if isinstance(retry, int | float):
            extra.append(("retry-after", str(max(1, math.ceil(retry)))))
        if not unauthenticated and not is_api_path(path) and "hx-request" not in headers:
            # A page's refusal (a stale form's CSRF token) is a page that says why.
            page = error_page(Request(scope), error.http_status, error.message)
            for name, value in extra:
                page.headers[name] = value
            await page(scope, _no_body, send)
            return
        if unauthenticated:
            extra.append(("www-authenticate", _challenge(path, error)))
        await _send(send, error.http_status, error, extra, clear_cookie, scope)


_ANONYMOUS = (
    "Authentication required: send an API token (Authorization: Bearer <token>), "
    "a user name and password (Basic), or log in to the web UI."
)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _challenge(path: str, error: LoopmlError) -> str:
    """``WWW-Authenticate``: Bearer (with the reason), and Basic for API clients."""
    reason = error.message.replace('"', "'")[:200]
    bearer = f'Bearer realm="loopml", error="invalid_token", error_description="{reason}"'
    if path.startswith("/ui/api/"):  # a browser's fetch must not pop a password dialog
        return bearer
    return f'{bearer}, Basic realm="loopml", charset="UTF-8"'


def _echo_request_id(send: Send, request_id: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).setdefault("x-request-id", request_id)
        await send(message)

    return sending


def _cookie_clearing(scope: Scope) -> tuple[str, str]:
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    return (
        "set-cookie",
        f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{secure}",
    )


async def _send(
    send: Send,
    status: int,
    error: LoopmlError,
    extra: Iterable[tuple[str, str]],
    clear_cookie: bool,
    scope: Scope,
) -> None:
    body = json.dumps(error.to_dict()).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    headers.extend(extra)
    if clear_cookie:
        headers.append(_cookie_clearing(scope))
    await _start(send, status, headers)
    await send({"type": "http.response.body", "body": body})


async def _send_redirect(send: Send, location: str, clear_cookie: bool, scope: Scope) -> None:
    headers = [("location", location), ("content-length", "0")]
    if clear_cookie:
        headers.append(_cookie_clearing(scope))
    await _start(send, 303, headers)
    await send({"type": "http.response.body", "body": b""})


async def _start(send: Send, status: int, headers: list[tuple[str, str]]) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
