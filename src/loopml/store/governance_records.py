"""Frozen records of governance: users, API tokens, browser sessions, workspaces.

What the store hands to ``loopml.governance``. Secrets never appear here:
a token or session is known only by the SHA-256 of its secret, and a
password only by its argon2 hash, which stays inside ``LoginState`` (the one
record the password check reads). Roles are plain strings at this layer;
``loopml.governance.Role`` gives them their order. Times are epoch
milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from loopml.store._models import KEY_LENGTH

MAX_OBJECT_KEY = KEY_LENGTH  # the longest object key a workspace assignment holds
HUMAN = "human"
SERVICE = "service"
USER_KINDS = (HUMAN, SERVICE)


@dataclass(frozen=True, slots=True)
class User:
    """A person (``kind="human"``) or a service account (``"service"``, tokens only)."""

    name: str
    kind: str
    is_admin: bool
    disabled: bool
    created_time: int
    has_password: bool


@dataclass(frozen=True, slots=True)
class LoginState:
    """What a password check needs: the user, its argon2 hash and its recent failures."""

    user: User
    password_hash: str | None
    failed_logins: int
    last_failed_time: int | None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as anyone may see it: its public id, owner, name and lifetime."""

    id: str
    user: str
    name: str
    created_time: int
    expires_time: int | None
    last_used_time: int | None
    revoked_time: int | None


@dataclass(frozen=True, slots=True)
class StoredToken:
    """A token with the SHA-256 of its secret, for checking a presented secret."""

    info: TokenInfo
    token_hash: str


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A browser session, known by the hash of its cookie."""

    user: str
    csrf_token: str
    created_time: int
    expires_time: int


@dataclass(frozen=True, slots=True)
class Workspace:
    """A project that owns experiments, models, datasets, deployments and policies."""

    name: str
    description: str
    created_time: int


@dataclass(frozen=True, slots=True)
class Membership:
    """One user's role (a string: viewer, editor, maintainer, admin) in one workspace."""

    workspace: str
    user: str
    role: str
    created_time: int
