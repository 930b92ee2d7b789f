"""Schema migrations: applied automatically on first use, and by ``loopml db upgrade``.

The fast path (schema already at head) is one small query, so opening a store
costs almost nothing. The slow path runs Alembic inside one write transaction
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so many processes
starting at once migrate exactly once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from loopml.store._database import Database

HEAD_REVISION = "0010"
if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 7_474_201  # arbitrary, constant: "loopml migrations"


def _alembic_config(conn: Connection | None) -> Config:
    # Alembic is imported only on the slow path: opening an up-to-date store skips it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def script_head() -> str:
    """The head revision as Alembic sees the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(db: Database) -> bool:
    """Whether the schema is at head (the cheap check done on every open)."""
    with db.read() as conn:
        return current_revision(conn) == HEAD_REVISION


def upgrade(db: Database) -> str:
    """Bring the schema to head; a no-op when it is there. Returns the revision."""
    if is_current(db):
        return HEAD_REVISION
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if current_revision(conn) != HEAD_REVISION:
            from alembic import command

            command.upgrade(_alembic_config(conn), "head")
    return HEAD_REVISION
