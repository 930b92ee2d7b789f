"""The web UI's login and logout: ``GET/POST /login``, ``POST /logout``, the session cookie.

A successful login creates a browser session (``Governance.create_session``)
and sets ``loopml_session``: HttpOnly (no script can read it), SameSite=Lax
(not sent with another site's posts), Secure when the request came over HTTPS
or the server runs with ``--cookie-secure``, Path=/. Failures all read
"invalid user name or password" (nothing says whether the user exists); the
slow-down after repeated failures answers 429 with Retry-After. ``next`` is
followed only when it is a path on this server, so the login page cannot send
a user to another site.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from loopml.core.clock import now_ms
from loopml.core.errors import Unauthenticated
from loopml.governance import Governance
from loopml.server._auth_credentials import SESSION_COOKIE, cookie_value
from loopml.server._auth_events import governance, record
from loopml.ui import render
from loopml.ui._forms import field, read_form

router = APIRouter(include_in_schema=False)

DEFAULT_NEXT = "/experiments"
INVALID_LOGIN = "invalid user name or password"
MAX_NAME_CHARS = 256


def safe_next(target: str | None) -> str:
    """``target`` when it is a local path (``/...``), else the UI's front page.

    Refuses absolute URLs, scheme-relative ``//host`` and ``/\\host`` (which
    browsers read as another host), and control characters.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return DEFAULT_NEXT
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in target):
        return DEFAULT_NEXT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return target


def _login_page(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "login.html",
        status_code=status_code,
        next_path=next_path,
        username=username,
        error=error,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    """The login form (a user already logged in goes straight on)."""
    target = safe_next(next)
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.via == "session":
        return RedirectResponse(target, status_code=303)
    return _login_page(request, next_path=target)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, gov: Governance = Depends(governance)) -> Response:
    """Check the user name and password; on success, a session cookie and a redirect."""
    form = await read_form(request)
    username = field(form, "username")[:MAX_NAME_CHARS]
    password = form.get("password", [""])[0]
    target = safe_next(field(form, "next"))
    try:
        if not username or not password:
            raise Unauthenticated(INVALID_LOGIN)
        principal = await run_in_threadpool(gov.authenticate_password, username, password)
        session = await run_in_threadpool(gov.create_session, principal)
    except Unauthenticated as exc:
        await run_in_threadpool(
            record, request, "login.failure", "user", username, {"reason": exc.message}, username
        )
        retry = getattr(exc, "retry_after_seconds", None)
        page = _login_page(
            request,
            next_path=target,
            username=username,
            error=exc.message if retry is not None else INVALID_LOGIN,
            status_code=exc.http_status,
        )
        if isinstance(retry, int | float):
            page.headers["Retry-After"] = str(max(1, math.ceil(retry)))
        return page
    await run_in_threadpool(
        record, request, "login", "user", principal.name, {"via": "password"}, principal.name
    )
    response = RedirectResponse(target, status_code=303)
    max_age = max(1, (session.expires_time - now_ms()) // 1000)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.post("/logout")
async def logout(request: Request, gov: Governance = Depends(governance)) -> Response:
    """End this browser's session and go back to the login page."""
    cookie = cookie_value(request.headers.get("cookie", ""))
    principal = getattr(request.state, "principal", None)
    if cookie is not None:
        await run_in_threadpool(gov.end_session, cookie)  # an unknown cookie is ignored
    if principal is not None:
        await run_in_threadpool(record, request, "logout", "user", principal.name, None, None)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or bool(getattr(request.app.state, "cookie_secure", False))
