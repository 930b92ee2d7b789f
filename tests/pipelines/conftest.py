"""Pipeline test fixtures (the fluent SDK fixtures ``sdk`` and ``sdk_any_store`` are shared)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    """A folder where steps leave a mark each time they really run."""
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder
