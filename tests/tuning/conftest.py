"""Fixtures for tuning: a SQLite client (most tests), quiet Optuna."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from loopml.core.settings import Settings
from loopml.tracking import Client


@pytest.fixture(autouse=True)
def _quiet_optuna() -> Iterator[None]:
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[Client]:
    """A client of a fresh SQLite store, its objects beside it."""
    settings = Settings(home=tmp_path / "home", flush_interval_seconds=0.2)
    tracking = Client(f"sqlite:///{tmp_path / 'loopml.db'}", settings=settings)
    yield tracking
    tracking.close()
