"""Browser session secrets: a random cookie value (stored as its SHA-256) and a CSRF token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: set ``cookie`` as the session cookie, ``csrf_token`` in forms."""

    cookie: str
    csrf_token: str
    expires_time: int

    def __repr__(self) -> str:  # keep the cookie out of logs and tracebacks
        return f"NewSession(cookie='***', csrf_token='***', expires_time={self.expires_time})"


def new_secret() -> str:
    """256 random bits, URL-safe: a cookie value or a CSRF token."""
    return secrets.token_urlsafe(32)
