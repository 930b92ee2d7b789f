"""CSRF protection for requests a browser session makes: the token must come back.

A session cookie is sent by the browser on its own, so a page of another site
could make a logged-in user's browser post to loopml. Every state-changing
request authenticated by the cookie must therefore also carry the session's
CSRF token, which only loopml's own pages know: in the ``X-CSRF-Token`` header
(htmx and scripts; ``base.html`` configures htmx to send it) or, for a plain
HTML form, in a ``csrf_token`` field. To read that field the URL-encoded body
is read here (it is small: capped) and replayed to the app unchanged; no other
body is ever read, so uploads still stream.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from loopml.core.errors import InvalidArgument, PermissionDenied

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 1024 * 1024


def _matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def check_csrf(scope: Scope, receive: Receive, expected: str) -> Receive:
    """Refuse (403) a session's state change without its CSRF token; the receive to use.

    The returned ``receive`` replays a form body that had to be read; otherwise
    it is the one given.
    """
    headers = Headers(scope=scope)
    if _matches(headers.get(CSRF_HEADER), expected):
        return receive
    kind = headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == FORM_TYPE:
        body, replay = await _read_body(receive)
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise InvalidArgument("The form is not UTF-8.") from exc
        if any(_matches(value, expected) for value in fields.get(CSRF_FIELD, [])[:1]):
            return replay
    raise PermissionDenied(
        "Missing or wrong CSRF token: reload the page and try again (scripts: send an "
        "API token instead of the browser's session cookie)."
    )


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole (capped) body, and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    total = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: the app will see the disconnect
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > MAX_FORM_BYTES:
            raise InvalidArgument(f"The form is larger than {MAX_FORM_BYTES // 1024} KiB.")
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
