"""Fixtures of the model packaging tests: data, the fluent SDK on a clean store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
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
    """The fluent SDK on a fresh SQLite store (most tests need only one database)."""
    yield from _point_sdk_at(f"sqlite:///{tmp_path / 'loopml.db'}", tmp_path)


@pytest.fixture
def sdk_any_store(store_uri: str, tmp_path: Path) -> Iterator[str]:
    """The fluent SDK on a clean store, once on SQLite and once on PostgreSQL."""
    yield from _point_sdk_at(store_uri, tmp_path)


@pytest.fixture(scope="session")
def table() -> tuple[pd.DataFrame, pd.Series]:
    """A small classification problem with an int, two float and a float32 column."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, 120),
            "income": rng.normal(50.0, 10.0, 120),
            "score": rng.random(120),
            "ratio": rng.random(120).astype(np.float32),
        }
    )
    labels = pd.Series((frame["score"] + frame["ratio"] > 1.0).astype(int), name="label")
    return frame, labels
