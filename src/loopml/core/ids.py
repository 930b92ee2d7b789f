"""Identifiers: run ids in MLflow's shape (32 lowercase hex characters)."""

from __future__ import annotations

import re
import uuid

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def new_run_id() -> str:
    """A fresh random run id, the same form MLflow uses (uuid4 hex)."""
    return uuid.uuid4().hex


def new_id() -> str:
    """A fresh random id for any other entity."""
    return uuid.uuid4().hex


def is_run_id(value: str) -> bool:
    """Whether ``value`` has the form of a run id."""
    return bool(_RUN_ID.match(value))
