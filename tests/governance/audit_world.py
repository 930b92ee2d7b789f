"""Helpers of the audit tests (imported by bare name): an emptied audit log, SQL tampering.

The shared PostgreSQL fixture empties the tracking tables only, so the fixture
``audit_log`` (import ``audit_log_fixture``; SQLite and PostgreSQL through
``client``) empties the two audit tables too. ``sql`` runs a statement straight
on the database, the way someone with database access would edit the log.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, text

from loopml.governance._audit import AuditLog
from loopml.store._governance_models import AUDIT_HEAD, AUDIT_LOG
from loopml.tracking import Client


def empty_audit(client: Client) -> None:
    with client.store.db.write() as conn:
        conn.execute(delete(AUDIT_LOG))
        conn.execute(delete(AUDIT_HEAD))


@pytest.fixture(name="audit_log")
def audit_log_fixture(client: Client) -> AuditLog:
    """The audit log of the test's store (SQLite or PostgreSQL), empty."""
    log = AuditLog(client)
    empty_audit(client)
    return log


def sql(log: AuditLog, statement: str, **params: Any) -> None:
    """Run ``statement`` on the log's database, around the audit API."""
    with log.store.db.write() as conn:
        conn.execute(text(statement), params)


def fill(log: AuditLog, count: int, *, actor: str = "alice") -> None:
    for i in range(1, count + 1):
        log.record(
            actor=actor,
            action="set_alias",
            object_type="registered_model",
            object_id=f"churn@v{i}",
            summary={"version": i},
            request_id=f"req-{i}",
            source="10.0.0.1",
        )
