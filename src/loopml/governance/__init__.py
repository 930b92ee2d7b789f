"""Governance: users, API tokens, sessions, workspaces and roles (who may do what),
the hash-chained audit log (who did what), lineage and model cards (where a model came from).

::

    from loopml.governance import Action, Governance

    gov = Governance()                                   # beside the metadata database
    gov.create_admin("alice", "a long passphrase")       # `loopml users create-admin alice`
    token = gov.create_token("alice", "laptop")          # token.secret is shown once
    principal = gov.authenticate_token(token.secret)
    gov.authorize(principal, gov.workspace_of("registered_model", "churn"), Action.MAINTAIN)

Names load on first use (PEP 562), so importing the package costs nothing
until a name is used. Add a name by adding one line to ``_EXPORTS`` (and
``__all__``) and its import to the ``TYPE_CHECKING`` block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.core.lazy import lazy_exports

if TYPE_CHECKING:
    from loopml.governance._audit import (
        AuditEntry,
        AuditFilters,
        AuditLog,
        AuditVerification,
        require_auditor,
    )
    from loopml.governance._audit_fields import parse_time
    from loopml.governance._audit_remote import RemoteAuditLog, open_audit_log
    from loopml.governance._cards import ModelCard, model_card
    from loopml.governance._identity import Governance
    from loopml.governance._lineage import lineage
    from loopml.governance._lineage_graph import LineageEdge, LineageGraph, LineageNode
    from loopml.governance._passwords import TooManyAttempts
    from loopml.governance._principal import Principal
    from loopml.governance._roles import DEFAULT_WORKSPACE, OBJECT_KINDS, Action, Member, Role
    from loopml.governance._sessions import NewSession
    from loopml.governance._tokens import NewToken
    from loopml.store.governance_records import TokenInfo, User, Workspace

_EXPORTS: dict[str, str] = {
    "AuditEntry": "loopml.governance._audit",
    "AuditFilters": "loopml.governance._audit",
    "AuditLog": "loopml.governance._audit",
    "AuditVerification": "loopml.governance._audit",
    "LineageEdge": "loopml.governance._lineage_graph",
    "LineageGraph": "loopml.governance._lineage_graph",
    "LineageNode": "loopml.governance._lineage_graph",
    "ModelCard": "loopml.governance._cards",
    "RemoteAuditLog": "loopml.governance._audit_remote",
    "lineage": "loopml.governance._lineage",
    "model_card": "loopml.governance._cards",
    "open_audit_log": "loopml.governance._audit_remote",
    "parse_time": "loopml.governance._audit_fields",
    "require_auditor": "loopml.governance._audit",
    "DEFAULT_WORKSPACE": "loopml.governance._roles",
    "OBJECT_KINDS": "loopml.governance._roles",
    "Action": "loopml.governance._roles",
    "Governance": "loopml.governance._identity",
    "Member": "loopml.governance._roles",
    "NewSession": "loopml.governance._sessions",
    "NewToken": "loopml.governance._tokens",
    "Principal": "loopml.governance._principal",
    "Role": "loopml.governance._roles",
    "TokenInfo": "loopml.store.governance_records",
    "TooManyAttempts": "loopml.governance._passwords",
    "User": "loopml.store.governance_records",
    "Workspace": "loopml.store.governance_records",
}

__all__ = [
    "DEFAULT_WORKSPACE",
    "OBJECT_KINDS",
    "Action",
    "AuditEntry",
    "AuditFilters",
    "AuditLog",
    "AuditVerification",
    "Governance",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "Member",
    "ModelCard",
    "NewSession",
    "NewToken",
    "Principal",
    "RemoteAuditLog",
    "Role",
    "TokenInfo",
    "TooManyAttempts",
    "User",
    "Workspace",
    "lineage",
    "model_card",
    "open_audit_log",
    "parse_time",
    "require_auditor",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
