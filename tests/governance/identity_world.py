"""Shared set-up of the identity tests: a governance service with a test clock and cheap argon2."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import text

from loopml.governance import Governance
from loopml.tracking import Client

GOVERNANCE_TABLES = (
    "users",
    "api_tokens",
    "ui_sessions",
    "workspaces",
    "workspace_members",
    "workspace_objects",
)
START_MS = 1_800_000_000_000
PASSWORD = "correct horse battery staple"


class Clock:
    """A settable clock in epoch milliseconds: tests move time instead of sleeping."""

    def __init__(self, now: int = START_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def fast_hasher(time_cost: int = 1) -> PasswordHasher:
    """argon2id with small parameters, so the suite does not spend seconds hashing."""
    return PasswordHasher(time_cost=time_cost, memory_cost=8192, parallelism=1)


def empty_governance_tables(client: Client) -> None:
    """The shared PostgreSQL test database keeps rows between tests; start from none."""
    with client.store.db.write() as conn:  # type: ignore[attr-defined]
        for table in GOVERNANCE_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


def governance(client: Client, clock: Clock) -> Governance:
    empty_governance_tables(client)
    return Governance(client, clock=clock, hasher=fast_hasher())
