"""One handle on the metadata database: engine set-up, transactions, errors.

SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` for writers, plus an
in-process lock: the single writer path that keeps many concurrent clients
(threads or processes) from ever seeing "database is locked". PostgreSQL gets
psycopg 3 and plain transactions. SQLAlchemy errors become ``LoopmlError``s
here and nowhere else.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from loopml.core.errors import AlreadyExists, InvalidArgument, LoopmlError, StorageError

_WRITE_OPTION = "loopml_write"


class Database:
    """A metadata database reachable by URI, with read and write transactions."""

    def __init__(self, uri: str, *, busy_timeout_seconds: float = 60.0) -> None:
        self.uri = uri
        try:
            url = make_url(uri)
        except ArgumentError as exc:
            raise InvalidArgument(
                f"Not a database URI: {uri!r}. Use sqlite:///path/to/loopml.db or "
                "postgresql+psycopg://user@host/db."
            ) from exc
        self.dialect = url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise InvalidArgument(
                f"Unsupported database {self.dialect!r} in {uri!r}: loopml runs on SQLite "
                "and PostgreSQL."
            )
        if self.dialect == "postgresql" and url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        self.is_sqlite = self.dialect == "sqlite"
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self.engine = self._create_engine(url, busy_timeout_seconds)
        os.register_at_fork(after_in_child=self._after_fork)

    def _create_engine(self, url: Any, busy_timeout_seconds: float) -> Engine:
        try:
            if self.is_sqlite:
                if url.database and url.database != ":memory:":
                    Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(
                    url,
                    connect_args={
                        "timeout": busy_timeout_seconds,
                        "check_same_thread": False,
                        "isolation_level": None,
                    },
                )
                _install_sqlite_hooks(engine)
                return engine
            return create_engine(url, pool_pre_ping=True)
        except (NoSuchModuleError, ImportError) as exc:
            raise InvalidArgument(
                f"The driver for {url.drivername!r} is not installed: "
                "pip install 'loopml[postgres]'."
            ) from exc

    def _after_fork(self) -> None:
        # A forked child must not reuse the parent's pooled connections.
        self.engine.dispose(close=False)
        if self._write_lock is not None:
            self._write_lock = threading.RLock()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot)."""
        with translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: all of it is committed, or none of it."""
        if self._write_lock is None:
            with translate_errors(), self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, translate_errors():
            conn = self.engine.connect().execution_options(**{_WRITE_OPTION: True})
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so the busy timeout applies
        # instead of a deferred reader failing when it tries to upgrade.
        if conn.get_execution_options().get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def translate_errors() -> Iterator[None]:
    """The one seam where SQLAlchemy exceptions become ``LoopmlError``s."""
    try:
        yield
    except LoopmlError:
        raise
    except IntegrityError as exc:
        raise AlreadyExists(f"The record exists already or conflicts: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StorageError(
            f"The metadata database failed: {exc.__class__.__name__}: {exc}. "
            "Check that it is reachable and that `loopml db upgrade` has run."
        ) from exc
