"""Who is making a request: the one value authentication hands to everything after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["human", "service"]
Via = Literal["password", "token", "session", "local"]


@dataclass(frozen=True)
class Principal:
    """An authenticated user or service account.

    ``via`` says how it proved itself (a password, an API token, a browser
    session, or ``local`` for the embedded single-user mode, where the
    operating-system user acts with every right); ``token_id`` names the token
    used, so the audit log can say which one.
    """

    name: str
    kind: PrincipalKind = "human"
    is_admin: bool = False
    via: Via = "local"
    token_id: str | None = None
