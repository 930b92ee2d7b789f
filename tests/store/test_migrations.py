"""Schema migrations: automatic, idempotent, and at the head the scripts declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from loopml.core.errors import InvalidArgument
from loopml.store import HEAD_REVISION, Database, current_revision, upgrade
from loopml.store._governance_models import USERS
from loopml.store._migrate import script_head
from loopml.store._models import Base


def test_head_constant_matches_the_scripts() -> None:
    assert script_head() == HEAD_REVISION


def test_upgrade_creates_every_table_once(store_uri: str) -> None:
    db = Database(store_uri)
    try:
        assert upgrade(db) == HEAD_REVISION
        assert upgrade(db) == HEAD_REVISION  # a no-op the second time
        with db.read() as conn:
            assert current_revision(conn) == HEAD_REVISION
            tables = set(inspect(conn).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert USERS.name in Base.metadata.tables  # the governance tables are declared too
    finally:
        db.dispose()


def test_empty_database_has_no_revision(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with db.read() as conn:
        assert current_revision(conn) is None
    db.dispose()


@pytest.mark.parametrize("uri", ["nonsense", "mysql://u@h/db", "oracle://u@h/db"])
def test_unsupported_database_uris_are_clear_errors(uri: str) -> None:
    with pytest.raises(InvalidArgument):
        Database(uri)
