"""Fixtures of the model packaging tests: data (the fluent SDK fixtures are shared)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


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
