"""The SQLite online store: one keyed table in ``<home>/features_online.db`` (WAL).

One row per ``(view, key)`` holding all features as one msgpack blob, in a
``WITHOUT ROWID`` table clustered on that primary key: a lookup of N keys is
one prepared ``IN (...)`` query walking N leaves of one B-tree. Each thread
has its own connection (SQLite connections are cheap, and WAL lets readers
run beside a materialisation that writes).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from loopml.core.errors import StorageError
from loopml.features._online import OnlineStore, OnlineStoreUnavailable, iter_chunks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_features (
    view TEXT NOT NULL,
    key BLOB NOT NULL,
    event_ts INTEGER NOT NULL,
    created_ts INTEGER NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (view, key)
) WITHOUT ROWID
"""

# Newer-or-equal (event, created) replaces the stored row; older leaves it alone.
_UPSERT = """
INSERT INTO online_features (view, key, event_ts, created_ts, value) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (view, key) DO UPDATE SET
    event_ts = excluded.event_ts, created_ts = excluded.created_ts, value = excluded.value
WHERE excluded.event_ts > online_features.event_ts
   OR (excluded.event_ts = online_features.event_ts
       AND excluded.created_ts >= online_features.created_ts)
"""

_MAX_PARAMS = 900  # below SQLite's historical 999 bound-parameter limit


class SqliteOnlineStore(OnlineStore):
    """The default online store: a file under the loopml home, no server needed."""

    def __init__(self, path: Path | str, *, busy_timeout_seconds: float = 5.0) -> None:
        self.path = Path(path).expanduser()
        self.uri = f"sqlite:///{self.path}"
        self._timeout = busy_timeout_seconds
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the online store folder {self.path.parent}: {exc}"
            ) from exc
        with self._errors():
            self._conn().execute(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise StorageError("The online store is closed.")
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The one seam translating sqlite3 errors."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise OnlineStoreUnavailable(
                f"The online store {self.path} cannot be used now: {exc}"
            ) from exc
        except sqlite3.Error as exc:
            raise StorageError(f"The online store {self.path} failed: {exc}") from exc

    def _write_encoded(self, view: str, rows: Mapping[bytes, tuple[int, int, bytes]]) -> int:
        conn = self._conn()
        params = [(view, key, ev, cr, blob) for key, (ev, cr, blob) in rows.items()]
        with self._errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                before = conn.total_changes
                conn.executemany(_UPSERT, params)
                stored = conn.total_changes - before
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return stored

    def _read_encoded(
        self, view: str, keys: Sequence[bytes]
    ) -> list[tuple[int, int, bytes] | None]:
        if not keys:
            return []
        conn = self._conn()
        found: dict[bytes, tuple[int, int, bytes]] = {}
        with self._errors():
            for chunk in iter_chunks(keys, _MAX_PARAMS):
                query = (
                    "SELECT key, event_ts, created_ts, value FROM online_features "
                    f"WHERE view = ? AND key IN ({','.join('?' * len(chunk))})"
                )
                for key, ev, cr, blob in conn.execute(query, (view, *chunk)):
                    found[key] = (ev, cr, blob)
        return [found.get(key) for key in keys]

    def delete_view(self, view: str) -> None:
        with self._errors():
            self._conn().execute("DELETE FROM online_features WHERE view = ?", (view,))

    def count(self, view: str) -> int:
        with self._errors():
            row = (
                self._conn()
                .execute("SELECT count(*) FROM online_features WHERE view = ?", (view,))
                .fetchone()
            )
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
