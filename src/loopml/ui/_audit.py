"""The audit page: who did what, newest first, filtered by user, object and time.

The chain's verification walks every entry, so the page loads it separately
(``/audit/verify``, fetched by htmx when the page shows, or followed as a link);
the entries themselves are one indexed query a page. Only administrators (and
the embedded single user) see either, as in the API.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.core.errors import InvalidArgument
from loopml.governance._audit import AuditLog, require_auditor
from loopml.governance._audit_fields import parse_object, parse_time
from loopml.governance._principal import Principal
from loopml.ui import _format  # noqa: F401 - the templates' filters
from loopml.ui._render import render
from loopml.ui._route import PageRoute
from loopml.ui._services import _kept

router = APIRouter(route_class=PageRoute)

PER_PAGE = 50


def audit_log(request: Request) -> AuditLog:
    """The app's audit log, once the caller is known to be allowed to read it."""
    # No principal on the request at all means no authentication runs: the local single user.
    require_auditor(getattr(request.state, "principal", Principal(name="local")))
    return _kept(request, "audit_log", AuditLog)


def _filters(user: str, target: str, since: str) -> dict[str, Any]:
    object_type, object_id = parse_object(target) if target.strip() else (None, None)
    return {
        "user": user.strip() or None,
        "object_type": object_type,
        "object_id": object_id,
        "since_ms": parse_time(since) if since.strip() else None,
    }


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: str = Query("", max_length=256),
    target: str = Query("", alias="object", max_length=600),
    since: str = Query("", max_length=64),
    before: int | None = Query(None, ge=1),
    audit: AuditLog = Depends(audit_log),
) -> HTMLResponse:
    """A page of entries matching the filters; bad filters are named above the form."""
    form = {"user": user, "object": target, "since": since}
    try:
        entries = audit.list(**_filters(user, target, since), limit=PER_PAGE, before_seq=before)
    except InvalidArgument as exc:
        return render(request, "audit.html", status_code=400, form=form, error=exc.message)
    older = entries[-1].seq if len(entries) == PER_PAGE and entries[-1].seq > 1 else None
    return render(
        request,
        "audit.html",
        form=form,
        entries=[(e, json.dumps(e.summary, indent=2, sort_keys=True)) for e in entries],
        older=older,
        paged=before is not None,
    )


@router.get("/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, audit: AuditLog = Depends(audit_log)) -> HTMLResponse:
    """The chain's state: intact with its head hash, or every problem found."""
    return render(request, "audit_verify.html", result=audit.verify())
