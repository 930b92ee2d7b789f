"""The governance tables: users, tokens, sessions, workspaces, ownership, the audit log.

Kept apart from ``_models`` (the tracking and registry tables) so that each
module stays one aggregate's schema; both declare on the same ``Base``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loopml.store._models import ID_LENGTH, KEY_LENGTH, NAME_LENGTH, Base, table_of


class UserRow(Base):
    """A person or a service account; a null password hash means tokens only."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_time: Mapped[int] = mapped_column(BigInteger)


class ApiTokenRow(Base):
    """A personal or service token: only its hash is kept; ``id`` is its public prefix."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(128))
    created_time: Mapped[int] = mapped_column(BigInteger)
    expires_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_used_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class UiSessionRow(Base):
    """A browser session: the cookie's hash, its CSRF token and its expiry."""

    __tablename__ = "ui_sessions"

    id_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    csrf_token: Mapped[str] = mapped_column(String(128))
    created_time: Mapped[int] = mapped_column(BigInteger)
    expires_time: Mapped[int] = mapped_column(BigInteger)


class WorkspaceRow(Base):
    """A project that owns experiments, models, datasets, deployments and policies."""

    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_time: Mapped[int] = mapped_column(BigInteger)


class WorkspaceMemberRow(Base):
    """One user's role in one workspace: viewer, editor, maintainer or admin."""

    __tablename__ = "workspace_members"

    workspace: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_time: Mapped[int] = mapped_column(BigInteger)


class WorkspaceObjectRow(Base):
    """Which workspace owns an object (kind + key); objects with no row are in "default"."""

    __tablename__ = "workspace_objects"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)


class AuditEntryRow(Base):
    """One audit entry; ``hash`` chains it to the entry before (``prev_hash``)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    time: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    action: Mapped[str] = mapped_column(String(128))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(512))
    summary: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's head, one row: appenders lock it, so entries chain in one order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


USERS = table_of(UserRow)
API_TOKENS = table_of(ApiTokenRow)
UI_SESSIONS = table_of(UiSessionRow)
WORKSPACES = table_of(WorkspaceRow)
WORKSPACE_MEMBERS = table_of(WorkspaceMemberRow)
WORKSPACE_OBJECTS = table_of(WorkspaceObjectRow)
AUDIT_LOG = table_of(AuditEntryRow)
AUDIT_HEAD = table_of(AuditHeadRow)
