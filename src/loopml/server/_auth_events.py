"""What the login pages and the auth API share: the governance service and audit entries.

Logins (successful or not), logouts and token creation or revocation are
written to the audit log here, with the request's id and the caller's address,
so ``loopml audit list`` shows who got in, who failed and which tokens exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from loopml.governance import Governance
from loopml.governance._audit import AuditLog
from loopml.server._deps import per_app, service


def governance(request: Request) -> Governance:
    """The governance service of this app (users, tokens, sessions, workspaces)."""
    return per_app(request, "governance", Governance, service(request))


def record(
    request: Request,
    action: str,
    object_type: str,
    object_id: str,
    summary: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Append one audit entry for this request (actor: the principal unless named)."""
    principal = getattr(request.state, "principal", None)
    who = actor or (principal.name if principal is not None else "anonymous")
    AuditLog(service(request)).record(
        actor=who,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
        request_id=getattr(request.state, "request_id", ""),
        source=request.client.host if request.client else "",
    )
