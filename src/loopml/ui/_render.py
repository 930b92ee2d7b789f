"""Rendering pages: one Jinja2 environment, the shared context, htmx partials.

A request sent by htmx (header ``HX-Request``) gets only the page's ``content``
block (or the block the handler names), so a filter or a page change swaps part
of the page; a history restore (``HX-History-Restore-Request``) gets the whole page.
"""

from __future__ import annotations

import functools
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from loopml import __version__

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
TEMPLATE_DIR = HERE / "templates"

# The files base.html and the chart pages load; the build copies them from npm packages.
VENDOR_FILES = ("htmx.min.js", "uPlot.iife.min.js", "uPlot.min.css", "echarts.min.js")

NAV = (
    ("Experiments", "/experiments"),
    ("Models", "/models"),
    ("Deployments", "/deployments"),
    ("Monitoring", "/monitoring"),
    ("Data", "/data"),
)

# Pages load scripts only from this server; user HTML never reaches a page (artifacts
# that are HTML are shown in a sandboxed frame with their own, stricter policy).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,  # every user-supplied string is text, never markup
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


def _json_script(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _when(ms: int | None) -> str:
    """A time in ms since the epoch as ``2026-11-26 01:50:03`` (UTC); empty for None."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _num(value: Any) -> str:
    """A metric value short enough for a table cell, exact enough to compare (6 digits)."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return ""
    seconds = max(0, end - start) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m {int(seconds % 60)}s"
    return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60)}m"


@jinja2.pass_context
def _query(context: Any, **changes: Any) -> str:
    """This page's URL query with ``changes`` (None drops a key; a list repeats it)."""
    request: Request = context["request"]
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        items.extend((key, str(v)) for v in values)
    return request.url.path + ("?" + urlencode(items) if items else "")


templates.env.globals["query"] = _query
templates.env.filters.update(json_script=_json_script, when=_when, num=_num)
templates.env.globals["duration"] = _duration


def missing_assets() -> tuple[str, ...]:
    """Vendor files the npm build has not produced (checked once per folder)."""
    return _missing_in(VENDOR_DIR)


@functools.cache
def _missing_in(folder: Path) -> tuple[str, ...]:
    return tuple(name for name in VENDOR_FILES if not (folder / name).is_file())


def _wants_partial(request: Request) -> bool:
    headers = request.headers
    return "hx-request" in headers and "hx-history-restore-request" not in headers


def render(
    request: Request,
    name: str,
    /,
    *,
    status_code: int = 200,
    block: str = "content",
    **context: Any,
) -> HTMLResponse:
    """The page ``name`` with ``context``; only ``block`` when htmx asked for a fragment."""
    template = templates.get_template(name)
    values = {
        "request": request,
        "nav": NAV,
        "path": request.url.path,
        "version": __version__,
        "missing_assets": missing_assets(),
        # Set by the server's authentication: who is logged in, and the token that the
        # page's forms and htmx requests send back (CSRF protection).
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **context,
    }
    if _wants_partial(request) and block in template.blocks:
        ctx = template.new_context(values)
        body = "".join(template.blocks[block](ctx))
    else:
        body = template.render(values)
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Vary"] = "HX-Request"
    return response
