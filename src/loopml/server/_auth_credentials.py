"""From a request's credentials to a ``Principal``: tokens, passwords, session cookies.

The middleware (``_auth``) hands each HTTP request's headers here. Three ways in:

- ``Authorization: Bearer <token>``: an API token (the mlflow client sends
  ``MLFLOW_TRACKING_TOKEN`` this way, the loopml SDK its token).
- ``Authorization: Basic``: a user name and password (``MLFLOW_TRACKING_USERNAME``
  and ``PASSWORD``), or an API token as the password for tools that only speak
  Basic (the user name must then be empty, ``token`` or the token's owner).
- the ``loopml_session`` cookie of the web UI, which also carries a CSRF token.

An ``Authorization`` header wins over a cookie; a bad one is refused with its
reason, never ignored. Every check runs in a worker thread: the governance
service talks to the database and hashes passwords.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import cast

from loopml.core.errors import LoopmlError, Unauthenticated
from loopml.governance import Governance, Principal
from loopml.governance._principal import PrincipalKind

SESSION_COOKIE = "loopml_session"
TOKEN_PREFIX = "lmt_"
# A verified password is remembered this long, so a client that sends Basic on every
# request (the mlflow client does) costs one argon2 hash per minute, not per request.
# The user's record is still read on every request: disabling a user stops it at once.
PASSWORD_CACHE_SECONDS = 60.0
# A token's use is written to the audit log at most this often per server process:
# every use would double the log's writes; once a minute still shows who used which
# token, from where, and when it was last seen.
TOKEN_USE_AUDIT_SECONDS = 60.0
_PASSWORD_CACHE_MAX = 1024
_TOKEN_USER_NAMES = ("", "token")


@dataclass(frozen=True)
class Credentials:
    """What a request offered: a token, a user and password, or a session cookie."""

    token: str | None = None
    user: str | None = None
    password: str | None = None
    basic_user: str | None = None  # the Basic user name sent with a token as password
    cookie: str | None = None

    @property
    def offered(self) -> bool:
        return any(v is not None for v in (self.token, self.user, self.cookie))


def parse_authorization(header: str) -> Credentials:
    """The credentials of an ``Authorization`` header; Unauthenticated when malformed."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    kind = scheme.lower()
    if kind == "bearer":
        if not value:
            raise Unauthenticated("The Authorization header names Bearer but holds no token.")
        return Credentials(token=value)
    if kind == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthenticated(
                "Malformed Basic credentials: not base64 of user:password."
            ) from exc
        user, colon, password = decoded.partition(":")
        if not colon:
            raise Unauthenticated("Malformed Basic credentials: expected user:password.")
        if password.startswith(TOKEN_PREFIX):
            return Credentials(token=password, basic_user=user)
        return Credentials(user=user, password=password)
    raise Unauthenticated(
        f"Unsupported authorization scheme {scheme!r}: use Bearer <token> or Basic."
    )


def cookie_value(cookie_header: str, name: str = SESSION_COOKIE) -> str | None:
    """One cookie's value from a ``Cookie`` header (None when absent or empty)."""
    for part in cookie_header.split(";"):
        key, eq, value = part.strip().partition("=")
        if eq and key == name:
            return value.strip().strip('"') or None
    return None


@dataclass(frozen=True)
class Identity:
    """Who a request is, and the CSRF token of its session (browser sessions only)."""

    principal: Principal
    csrf_token: str | None = None


class Authenticator:
    """Checks credentials against one governance service (shared by all requests)."""

    def __init__(self, governance: Governance) -> None:
        self.governance = governance
        self._lock = threading.Lock()
        self._passwords: dict[str, float] = {}
        self._token_uses: dict[str, float] = {}

    def identify(self, credentials: Credentials) -> Identity:
        """The identity the credentials prove; Unauthenticated (or 429) with the reason."""
        if credentials.token is not None:
            principal = self.governance.authenticate_token(credentials.token)
            user = credentials.basic_user
            if user is not None and user not in (*_TOKEN_USER_NAMES, principal.name):
                raise Unauthenticated(
                    f"The token belongs to another user than {user!r}: send it with user "
                    f"{principal.name!r} (or as a Bearer token)."
                )
            return Identity(principal)
        if credentials.user is not None:
            return Identity(self._password(credentials.user, credentials.password or ""))
        if credentials.cookie is not None:
            principal, csrf = self.governance.session(credentials.cookie)
            return Identity(principal, csrf)
        raise Unauthenticated("No credentials.")

    def _password(self, user: str, password: str) -> Principal:
        key = hashlib.sha256(f"{user}\0{password}".encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            fresh = self._passwords.get(key, 0.0) > now
        if fresh:
            try:
                found = self.governance.get_user(user)  # disabled or removed since: refused
            except LoopmlError:
                found = None
            if found is not None and not found.disabled and found.has_password:
                kind = cast(PrincipalKind, found.kind)
                return Principal(found.name, kind, found.is_admin, via="password")
        principal = self.governance.authenticate_password(user, password)
        with self._lock:
            if len(self._passwords) >= _PASSWORD_CACHE_MAX:
                self._passwords = {k: t for k, t in self._passwords.items() if t > now}
                if len(self._passwords) >= _PASSWORD_CACHE_MAX:
                    self._passwords.clear()
            self._passwords[key] = now + PASSWORD_CACHE_SECONDS
        return principal

    def token_use_due(self, token_id: str) -> bool:
        """Whether this use of ``token_id`` should be audited (the first in a minute)."""
        now = time.monotonic()
        with self._lock:
            if self._token_uses.get(token_id, 0.0) > now:
                return False
            if len(self._token_uses) >= _PASSWORD_CACHE_MAX:
                self._token_uses = {k: t for k, t in self._token_uses.items() if t > now}
            self._token_uses[token_id] = now + TOKEN_USE_AUDIT_SECONDS
            return True

    def forget_passwords(self) -> None:
        """Drop every remembered password (a password changed or a user was disabled)."""
        with self._lock:
            self._passwords.clear()
