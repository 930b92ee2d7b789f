"""INSERT ... ON CONFLICT for both dialects, written once.

Statements are built once per dialect and shape and then reused: building an
``ON CONFLICT`` statement costs milliseconds, more than running it on a
thousand rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

Condition = Callable[[Any], ColumnElement[bool]]


def _insert(dialect: str, table: Table) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


@lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str,
    table: Table,
    keys: tuple[str, ...],
    update: tuple[str, ...],
    where: Condition | None,
) -> Any:
    stmt = _insert(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: stmt.excluded[column] for column in update},
        where=where(stmt.excluded) if where else None,
    )


@lru_cache(maxsize=64)
def ignore_statement(dialect: str, table: Table) -> Any:
    return _insert(dialect, table).on_conflict_do_nothing()


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    where: Condition | None = None,
) -> None:
    """Insert ``rows``; on a key conflict overwrite ``update`` columns (if ``where`` holds).

    ``where`` takes the ``excluded`` pseudo-table and returns a condition, so it
    can compare the new row with the stored one. Pass a module-level function
    (not a fresh lambda) so the statement is built only once.
    """
    if rows:
        stmt = _upsert_statement(conn.dialect.name, table, tuple(keys), tuple(update), where)
        conn.execute(stmt, list(rows))


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, silently skipping those whose key exists already."""
    if rows:
        conn.execute(ignore_statement(conn.dialect.name, table), list(rows))
