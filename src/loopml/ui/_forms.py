"""Forms that change state: read a POSTed form, refuse one sent from another site.

The UI has no cookies or sessions, so a forged cross-site form is the attack
to stop: a browser always sends ``Origin`` (and ``Sec-Fetch-Site``) with a
POST, and a page of another site cannot make them name this server. Every
state change is a POST with a confirmation step first (a GET never changes
anything). Bodies are URL-encoded and small; no multipart parser is needed.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import Request

from loopml.core.errors import InvalidArgument, PermissionDenied

MAX_FORM_BYTES = 64 * 1024


def check_same_origin(request: Request) -> None:
    """Refuse (403) a POST whose ``Origin`` or ``Sec-Fetch-Site`` says another site sent it."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise PermissionDenied(f"Refused a form sent from another site ({site}).")
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser form (curl, a test client): no ambient credentials to abuse
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc != host:
        raise PermissionDenied(f"Refused a form sent from {origin!r}: not this server ({host}).")


async def read_form(request: Request) -> dict[str, list[str]]:
    """The fields of a same-origin, URL-encoded POST (each name to its values, in order)."""
    check_same_origin(request)
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidArgument(f"Expected a URL-encoded form, got {kind or 'no content type'!r}.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidArgument(f"The form is larger than {MAX_FORM_BYTES // 1024} KiB.")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise InvalidArgument("The form is not UTF-8.") from exc


def field(form: dict[str, list[str]], name: str, default: str = "") -> str:
    """One field's (first) value, stripped; ``default`` when absent."""
    values = form.get(name)
    return values[0].strip() if values else default
