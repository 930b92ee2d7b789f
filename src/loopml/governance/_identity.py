"""``Governance``: who is who (users, passwords, API tokens, browser sessions) and who may what.

::

    gov = Governance()                                 # over loopml.tracking.get_client()
    gov.create_admin("alice", "a long passphrase")
    token = gov.create_token("alice", "laptop")        # token.secret is shown once
    principal = gov.authenticate_token(token.secret)   # Principal(name="alice", via="token")
    gov.create_workspace("fraud")
    gov.add_member("fraud", "bob", "editor")
    gov.authorize(principal, "fraud", Action.WRITE)    # PermissionDenied unless allowed

It works beside the metadata database (embedded, or inside the server); the
server authenticates every request with it and the services call
``authorize`` before each operation. Every write is one transaction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import cast

from argon2 import PasswordHasher

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, InvalidState, NotFound, Unauthenticated
from loopml.governance._names import MAX_NAME, check_name
from loopml.governance._passwords import (
    MAX_PASSWORD,
    Passwords,
    TooManyAttempts,
    check_password_strength,
    retry_after_ms,
)
from loopml.governance._principal import Principal, PrincipalKind, Via
from loopml.governance._sessions import NewSession, new_secret
from loopml.governance._tokens import NewToken, digest, new_token, same_digest, token_id_of
from loopml.governance._workspaces import WorkspaceRules
from loopml.store import SqlGovernanceStore, SqlTrackingStore
from loopml.store.governance_records import (
    HUMAN,
    SERVICE,
    StoredSession,
    TokenInfo,
    User,
)
from loopml.tracking import Client, get_client

log = logging.getLogger("loopml.governance")

BAD_LOGIN = "Invalid user name or password."
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
TOUCH_INTERVAL_MS = 60_000  # last_used_time is written at most once a minute per token
MAX_TOKEN_DAYS = 3650.0
MAX_SESSION_HOURS = 24.0 * 30


def _positive(value: object, what: str, limit: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= limit
    ):
        raise InvalidArgument(f"{what} must be a number above 0 and at most {limit:g}.")
    return float(value)


class Governance(WorkspaceRules):
    """Users, API tokens, sessions, workspaces and roles of one metadata database.

    ``clock`` (epoch milliseconds) and ``hasher`` are for tests and for
    tuning argon2; the defaults are the wall clock and argon2-cffi's
    recommended parameters.
    """

    def __init__(
        self,
        client: Client | None = None,
        *,
        clock: Callable[[], int] = now_ms,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.client = client if client is not None else get_client()
        if not isinstance(self.client.store, SqlTrackingStore):
            raise InvalidArgument(
                "Users, tokens and workspaces are managed beside the metadata database: run "
                "this on the server host with --tracking-uri <database uri>."
            )
        super().__init__(SqlGovernanceStore(self.client.store.db), clock)
        self._passwords = Passwords(hasher)

    # -- users ---------------------------------------------------------------------------
    def has_admin(self) -> bool:
        """Whether an enabled admin exists (the server refuses ``--auth`` without one)."""
        return self.store.has_admin()

    def create_admin(self, name: str, password: str) -> User:
        """Create a global admin; ``InvalidArgument`` for a weak password or a bad name."""
        return self.create_user(name, password, is_admin=True)

    def create_user(
        self, name: str, password: str | None = None, *, is_admin: bool = False
    ) -> User:
        """Create a person; with no password it can log in only by token until one is set."""
        name = check_name(name, "user")
        password_hash = None
        if password is not None:
            password_hash = self._passwords.hash(check_password_strength(password, name))
        return self.store.insert_user(name, HUMAN, password_hash, bool(is_admin), self.clock())

    def create_service_account(self, name: str) -> User:
        """Create a service account for CI or serving: no password, API tokens only."""
        name = check_name(name, "service account")
        return self.store.insert_user(name, SERVICE, None, False, self.clock())

    def get_user(self, name: str) -> User:
        found = self.store.get_user(check_name(name, "user"))
        if found is None:
            raise NotFound(f"No user named {name!r}.")
        return found

    def list_users(self) -> list[User]:
        return self.store.list_users()

    def disable_user(self, name: str) -> User:
        """Disable a user: its sessions end now, its tokens and password stop working."""
        disabled = self.store.disable_user(check_name(name, "user"))
        if disabled is None:
            raise NotFound(f"No user named {name!r}.")
        return disabled

    def set_password(self, name: str, password: str) -> None:
        """Set a person's password (and lift its failed-login slow-down)."""
        user = self.get_user(name)
        if user.kind == SERVICE:
            raise InvalidArgument(
                f"{name!r} is a service account: it has no password, only API tokens."
            )
        password_hash = self._passwords.hash(check_password_strength(password, user.name))
        self.store.set_password_hash(user.name, password_hash, reset_failures=True)

    def authenticate_password(self, name: str, password: str) -> Principal:
        """The principal for a correct password; ``Unauthenticated`` or ``TooManyAttempts``.

        The same message answers an unknown name, a wrong password and a
        disabled user, and each costs one argon2 verification.
        """
        known = isinstance(name, str) and 0 < len(name) <= MAX_NAME
        state = self.store.login_state(name) if known else None
        now = self.clock()
        if state is not None:
            wait = retry_after_ms(state.failed_logins, state.last_failed_time, now)
            if wait > 0:
                seconds = math.ceil(wait / 1000)
                raise TooManyAttempts(
                    f"Too many failed logins for {name!r}: try again in {seconds} s.",
                    retry_after_seconds=wait / 1000,
                )
        candidate = password if isinstance(password, str) and len(password) <= MAX_PASSWORD else ""
        matches = self._passwords.verify(state.password_hash if state else None, candidate)
        if state is None:
            raise Unauthenticated(BAD_LOGIN)
        if not matches:
            self.store.record_login_failure(state.user.name, now)
            raise Unauthenticated(BAD_LOGIN)
        if state.user.disabled:
            raise Unauthenticated(BAD_LOGIN)
        if state.failed_logins:
            self.store.reset_login_failures(state.user.name)
        if state.password_hash and self._passwords.needs_rehash(state.password_hash):
            new_hash = self._passwords.hash(candidate)
            self.store.set_password_hash(state.user.name, new_hash, reset_failures=False)
        return _principal(state.user, "password")

    # -- API tokens ----------------------------------------------------------------------
    def create_token(
        self, user: str, name: str, *, expires_in_days: float | None = 90.0
    ) -> NewToken:
        """A new token for ``user``; its ``secret`` is returned once and never stored."""
        name = check_name(name, "token")
        owner = self.get_user(user)
        if owner.disabled:
            raise InvalidState(f"User {owner.name!r} is disabled: it cannot get new tokens.")
        now = self.clock()
        expires = None
        if expires_in_days is not None:
            days = _positive(expires_in_days, "expires_in_days", MAX_TOKEN_DAYS)
            expires = now + int(days * DAY_MS)
        token_id, secret = new_token()
        info = TokenInfo(token_id, owner.name, name, now, expires, None, None)
        self.store.insert_token(info, digest(secret))
        return NewToken(info=info, secret=secret)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        """Every token (never its secret), or only ``user``'s."""
        return self.store.list_tokens(None if user is None else check_name(user, "user"))

    def revoke_token(self, token_id: str) -> TokenInfo:
        """Revoke a token for good (revoking twice keeps the first time); ``NotFound``."""
        revoked = self.store.revoke_token(_token_id(token_id), self.clock())
        if revoked is None:
            raise NotFound(f"No API token with id {token_id!r}.")
        return revoked

    def token_owner(self, token_id: str) -> str:
        stored = self.store.get_token(_token_id(token_id))
        if stored is None:
            raise NotFound(f"No API token with id {token_id!r}.")
        return stored.info.user

    def authenticate_token(self, secret: str) -> Principal:
        """The principal a token stands for; ``Unauthenticated`` saying what is wrong with it."""
        token_id = token_id_of(secret)
        stored = self.store.get_token(token_id)
        if stored is None or not same_digest(secret, stored.token_hash):
            raise Unauthenticated(f"Unknown API token {token_id}: check it was copied whole.")
        info = stored.info
        now = self.clock()
        if info.revoked_time is not None:
            raise Unauthenticated(f"API token {token_id} was revoked: create a new one.")
        if info.expires_time is not None and info.expires_time <= now:
            raise Unauthenticated(f"API token {token_id} has expired: create a new one.")
        owner = self.store.get_user(info.user)
        if owner is None or owner.disabled:
            raise Unauthenticated(f"The user of API token {token_id} is disabled.")
        if info.last_used_time is None or info.last_used_time < now - TOUCH_INTERVAL_MS:
            self.store.touch_token(token_id, now, now - TOUCH_INTERVAL_MS)
        return _principal(owner, "token", token_id)

    # -- browser sessions ----------------------------------------------------------------
    def create_session(self, principal: Principal, *, hours: float = 12.0) -> NewSession:
        """Open a browser session for an authenticated user (set its cookie once)."""
        user = self.get_user(principal.name)
        if user.disabled:
            raise Unauthenticated(f"User {user.name!r} is disabled.")
        now = self.clock()
        expires = now + int(_positive(hours, "hours", MAX_SESSION_HOURS) * HOUR_MS)
        cookie, csrf = new_secret(), new_secret()
        self.store.insert_session(digest(cookie), StoredSession(user.name, csrf, now, expires))
        return NewSession(cookie=cookie, csrf_token=csrf, expires_time=expires)

    def session(self, cookie: str) -> tuple[Principal, str]:
        """The principal and CSRF token of a live session; ``Unauthenticated`` otherwise."""
        if not isinstance(cookie, str) or not 0 < len(cookie) <= 256:
            raise Unauthenticated("No valid session: log in again.")
        stored = self.store.get_session(digest(cookie))
        if stored is None:
            raise Unauthenticated("Unknown session: log in again.")
        if stored.expires_time <= self.clock():
            raise Unauthenticated("The session has expired: log in again.")
        user = self.store.get_user(stored.user)
        if user is None or user.disabled:
            raise Unauthenticated("The session's user is disabled.")
        return _principal(user, "session"), stored.csrf_token

    def end_session(self, cookie: str) -> None:
        """Log out: forget the session (unknown cookies are ignored)."""
        if isinstance(cookie, str) and cookie:
            self.store.delete_session(digest(cookie))


def _principal(user: User, via: Via, token_id: str | None = None) -> Principal:
    kind = cast(PrincipalKind, user.kind)
    return Principal(user.name, kind, user.is_admin, via, token_id)


def _token_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise InvalidArgument(f"Invalid API token id {value!r:.80}.")
    return value
