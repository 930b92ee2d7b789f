from __future__ import annotations

from collections.abc import Iterator

import pytest

import loopml as lm
from loopml.tracking import _fluent


@pytest.fixture
def fluent(store_uri: str, tmp_path) -> Iterator[str]:
    """The fluent SDK pointed at a clean store; every run it left open is ended."""
    lm.set_tracking_uri(store_uri)
    yield store_uri
    while lm.active_run() is not None:
        lm.end_run()
    _fluent.get_client().close()
    lm.set_tracking_uri(f"sqlite:///{tmp_path / 'unused.db'}")
