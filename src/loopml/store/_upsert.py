"""INSERT ... ON CONFLICT for both dialects, written once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    where: Any = None,
) -> None:
    """Insert ``rows``; on a key conflict overwrite ``update`` columns (if ``where`` holds).

    ``where`` is a callable taking the ``excluded`` pseudo-table and returning a
    condition, so it can compare the new row with the stored one.
    """
    if not rows:
        return
    stmt = _insert(conn, table)
    condition: ColumnElement[bool] | None = where(stmt.excluded) if where else None
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: stmt.excluded[column] for column in update},
        where=condition,
    )
    conn.execute(stmt, list(rows))


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, silently skipping those whose key exists already."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))
