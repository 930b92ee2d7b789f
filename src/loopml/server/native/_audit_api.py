"""``/api/v1/audit``: list, verify and export the audit log (administrators only).

``since``/``until`` take what ``loopml audit list`` takes (a date, a date and time
in UTC, ``7d``/``24h``, or epoch ms); the remote CLI (``RemoteAuditLog``) calls
these routes. Anyone but an administrator, or the embedded single user, is
refused (403; 401 when anonymous) by ``require_auditor``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from loopml.governance._audit import (
    MAX_LIST,
    AuditEntry,
    AuditLog,
    AuditVerification,
    filters_from_text,
    require_auditor,
)
from loopml.governance._principal import Principal
from loopml.server._deps import per_app, service
from loopml.tracking import Client

router = APIRouter(tags=["audit"])


class AuditEntriesOut(BaseModel):
    """A page of entries, newest first; pass ``next_before_seq`` as ``before_seq`` for more."""

    entries: list[AuditEntry]
    next_before_seq: int | None = None


def audit_log(request: Request, client: Client = Depends(service)) -> AuditLog:
    """This server's audit log, after checking that the caller may read it."""
    # No principal on the request at all means no authentication runs: the local single user.
    require_auditor(getattr(request.state, "principal", Principal(name="local")))
    return per_app(request, "audit_log", AuditLog, client)


SINCE = Query(None, max_length=64, description="From this time on: 2026-11-01, 7d, 24h, epoch ms")
UNTIL = Query(None, max_length=64, description="Before this time (same forms as since)")
USER = Query(None, max_length=256, description="Entries by this user")
OBJECT_TYPE = Query(None, max_length=64, description="registered_model, run, experiment, ...")
OBJECT_ID = Query(None, max_length=512, description="The object's id (needs object_type)")


@router.get("/audit", response_model=AuditEntriesOut, summary="Audit entries, newest first")
def list_entries(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    user: str | None = USER,
    object_type: str | None = OBJECT_TYPE,
    object_id: str | None = OBJECT_ID,
    limit: int = Query(100, ge=1, le=MAX_LIST),
    before_seq: int | None = Query(None, ge=1, description="Page on: entries before this seq"),
    audit: AuditLog = Depends(audit_log),
) -> AuditEntriesOut:
    filters = filters_from_text(since, until, user, object_type, object_id)
    entries = audit.list(**filters, limit=limit, before_seq=before_seq)
    more = entries[-1].seq if len(entries) == limit and entries[-1].seq > 1 else None
    return AuditEntriesOut(entries=entries, next_before_seq=more)


@router.get(
    "/audit/verify",
    response_model=AuditVerification,
    summary="Walk the hash chain: report every edited, missing or reordered entry",
)
def verify(audit: AuditLog = Depends(audit_log)) -> AuditVerification:
    return audit.verify()


@router.get(
    "/audit/export",
    summary="The matching entries as JSON lines, oldest first (streamed)",
    response_class=StreamingResponse,
)
def export(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    user: str | None = USER,
    object_type: str | None = OBJECT_TYPE,
    object_id: str | None = OBJECT_ID,
    audit: AuditLog = Depends(audit_log),
) -> StreamingResponse:
    lines = audit.lines(**filters_from_text(since, until, user, object_type, object_id))
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'},
    )
