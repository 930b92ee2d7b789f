"""The fluent SDK on a fresh store for each pipeline test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import loopml as lm
from loopml.tracking import get_client


def _point_sdk_at(uri: str, tmp_path: Path) -> Iterator[str]:
    lm.set_tracking_uri(uri)
    yield uri
    while lm.active_run() is not None:
        lm.end_run()
    get_client().close()
    lm.set_tracking_uri(f"sqlite:///{tmp_path / 'unused.db'}")


@pytest.fixture
def sdk(tmp_path: Path) -> Iterator[str]:
    """The fluent SDK on a fresh SQLite store."""
    yield from _point_sdk_at(f"sqlite:///{tmp_path / 'loopml.db'}", tmp_path)


@pytest.fixture
def sdk_any_store(store_uri: str, tmp_path: Path) -> Iterator[str]:
    """The fluent SDK on a clean store, once on SQLite and once on PostgreSQL."""
    yield from _point_sdk_at(store_uri, tmp_path)


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    """A folder where steps leave a mark each time they really run."""
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder
