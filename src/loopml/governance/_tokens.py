"""API token secrets: ``lmt_<id>_<secret>``, kept only as the SHA-256 of the whole string.

The id is public (it names the token in lists, audit entries and
``loopml tokens revoke``); the secret part is 256 random bits, so a plain
SHA-256 is enough to store it (no slow hash needed, unlike a password).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from loopml.core.errors import Unauthenticated
from loopml.store.governance_records import TokenInfo

PREFIX = "lmt"
_TOKEN = re.compile(r"lmt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_TOKEN_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: ``secret`` is shown once and never stored."""

    info: TokenInfo
    secret: str

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"NewToken(info={self.info!r}, secret='lmt_{self.info.id}_***')"


def new_token() -> tuple[str, str]:
    """A fresh ``(id, secret)`` pair; the secret is the whole ``lmt_<id>_<random>`` string."""
    token_id = secrets.token_hex(8)
    return token_id, f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """The SHA-256 hex of a secret (token or session cookie): what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_digest(secret: str, stored: str) -> bool:
    """Compare in constant time, so response times do not leak the stored hash."""
    return hmac.compare_digest(digest(secret), stored)


def token_id_of(secret: object) -> str:
    """The id part of a well-formed token; ``Unauthenticated`` if it is malformed."""
    match = _TOKEN.fullmatch(secret) if isinstance(secret, str) else None
    if match is None:
        raise Unauthenticated(
            "Malformed API token: expected lmt_<id>_<secret> as printed by "
            "`loopml tokens create` or `loopml login`."
        )
    return match.group(1)


def is_token_id(value: object) -> bool:
    return isinstance(value, str) and _TOKEN_ID.fullmatch(value) is not None
