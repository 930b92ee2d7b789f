"""The stat index: what each tracked file looked like when its content was last hashed.

``status`` and ``add`` compare a file's ``(inode, mtime_ns, size)`` from one
``stat`` with the row recorded here and skip hashing when they match, which
is what makes them fast on 10,000 unchanged files. Rows live in
``.loopml/state.db`` (SQLite, stdlib ``sqlite3``), keyed by the POSIX path
relative to the repository root. All rows of a folder are read with one
query and written with one ``executemany`` in one transaction.

A row is trusted only if the file's mtime is older than the moment the row
was recorded by more than the filesystem's timestamp granularity: a file
rewritten in the same clock tick as it was hashed would otherwise look
unchanged ("racy" entries, as git calls them). Racy rows are re-hashed.

The same database also remembers the link mode that works for this
repository (``meta``) and every object id that ``add`` stored (``added``),
which is what ``gc`` may ever delete from a shared cache.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import StorageError

RACY_NS = 50_000_000
"""Timestamp granularity margin (50 ms: coarse kernel clocks tick every 1-10 ms)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stat (
    path TEXT PRIMARY KEY, inode INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL, id TEXT NOT NULL, recorded_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS added (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trees (id TEXT PRIMARY KEY, files TEXT NOT NULL) WITHOUT ROWID;
"""


StatEntry = tuple[int, int, int, str, int]
"""A file's stat when its content id was computed: (inode, mtime_ns, size, id, recorded_ns).

A plain tuple: ``status`` reads 10,000 of them at once.
"""


def vouched_id(entry: StatEntry | None, inode: int, mtime_ns: int, size: int) -> str | None:
    """The content id ``entry`` vouches for, if a file with this stat certainly still has it."""
    if (
        entry is not None
        and entry[0] == inode
        and entry[1] == mtime_ns
        and entry[2] == size
        and mtime_ns + RACY_NS < entry[4]
    ):
        return entry[3]
    return None


StatRow = tuple[str, int, int, int, str]
"""(path, inode, mtime_ns, size, id) as given to :meth:`StatIndex.record`."""


class StatIndex:
    """The stat rows of one repository (or of any folder: ``snapshot_into`` uses one too)."""

    def __init__(self, db_path: Path) -> None:
        self._path = db_path
        try:
            self._conn = sqlite3.connect(db_path, timeout=30.0, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(
                f"could not open the state database {db_path} ({exc}); delete it to rebuild "
                "it (only speed-ups are lost)"
            ) from exc

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> StatIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- stat rows --------------------------------------------------------------------

    def load(self, prefix: str | None = None) -> dict[str, StatEntry]:
        """Every row (or those at ``prefix`` and below it), in one query."""
        query = "SELECT path, inode, mtime_ns, size, id, recorded_ns FROM stat"
        params: tuple[str, ...] = ()
        if prefix is not None:
            # '0' sorts right after '/': the range is exactly the paths below prefix/.
            query += " WHERE path = ? OR (path >= ? AND path < ?)"
            params = (prefix, prefix + "/", prefix + "0")
        return {row[0]: row[1:] for row in self._run(query, params)}

    def record(self, rows: Iterable[StatRow], *, replace_prefix: str | None = None) -> None:
        """Store ``rows`` in one transaction, first dropping every row under ``replace_prefix``."""
        now = time.time_ns()
        with self._transaction():
            if replace_prefix is not None:
                self._delete_prefix(replace_prefix)
            self._conn.executemany(
                "INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?, ?, ?)",
                ((path, ino, mtime, size, oid, now) for path, ino, mtime, size, oid in rows),
            )

    def forget(self, prefix: str) -> None:
        """Drop the rows at ``prefix`` and below it."""
        with self._transaction():
            self._delete_prefix(prefix)

    def forget_ids(self, ids: Iterable[str]) -> int:
        """Drop the rows of files said to hold any of ``ids`` (their content is in doubt)."""
        with self._transaction():
            cursor = self._conn.executemany(
                "DELETE FROM stat WHERE id = ?", ((oid,) for oid in ids)
            )
            return cursor.rowcount

    def _delete_prefix(self, prefix: str) -> None:
        self._conn.execute(
            "DELETE FROM stat WHERE path = ? OR (path >= ? AND path < ?)",
            (prefix, prefix + "/", prefix + "0"),
        )

    # -- added ids and settings -------------------------------------------------------

    def record_added(self, ids: Iterable[str]) -> None:
        """Remember that ``add`` stored these object ids (the only ones data gc may delete)."""
        with self._transaction():
            self._conn.executemany(
                "INSERT OR IGNORE INTO added VALUES (?)", ((oid,) for oid in ids)
            )

    def added_ids(self) -> set[str]:
        """Every object id ``add`` ever stored from this repository."""
        return {row[0] for row in self._run("SELECT id FROM added", ())}

    def forget_added(self, ids: Iterable[str]) -> None:
        """Drop ids that gc deleted."""
        with self._transaction():
            self._conn.executemany("DELETE FROM added WHERE id = ?", ((oid,) for oid in ids))

    def cached_tree(self, tree_id: str) -> dict[str, tuple[str, int]] | None:
        """The files (``path -> (id, size)``) of a tree read before, or None.

        Trees are immutable (their id is the hash of their content), so this
        copy never goes stale; it spares ``status`` decoding and re-validating
        a 10,000-entry tree on every run.
        """
        rows = self._run("SELECT files FROM trees WHERE id = ?", (tree_id,))
        if not rows:
            return None
        return {path: (oid, size) for path, (oid, size) in json.loads(rows[0][0]).items()}

    def cache_tree(self, tree_id: str, files: Mapping[str, tuple[str, int]]) -> None:
        """Remember the files of a tree (see :meth:`cached_tree`)."""
        body = json.dumps(files, separators=(",", ":"))
        with self._transaction():
            self._conn.execute("INSERT OR REPLACE INTO trees VALUES (?, ?)", (tree_id, body))

    def get_meta(self, key: str) -> str | None:
        """A local setting (e.g. the working link mode), or None."""
        rows = self._run("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Remember a local setting."""
        with self._transaction():
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- internals --------------------------------------------------------------------

    def _run(self, query: str, params: tuple[str, ...]) -> list[Any]:
        try:
            return self._conn.execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"reading the state database {self._path} failed: {exc}") from exc

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn, self._path)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error; sqlite errors become StorageError."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path

    def __enter__(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"writing the state database {self._path} failed: {exc}") from exc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(
                    f"writing the state database {self._path} failed: {exc}"
                ) from exc
            return
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as err:
            self._conn.execute("ROLLBACK")
            raise StorageError(f"writing the state database {self._path} failed: {err}") from err
