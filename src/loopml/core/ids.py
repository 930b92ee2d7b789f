"""Identifiers: run ids in MLflow's shape (32 lowercase hex characters)."""

from __future__ import annotations

import os
import re

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def new_run_id() -> str:
    """A fresh random run id, the same form MLflow uses (uuid4 hex)."""
    return new_run_ids(1)[0]


def new_run_ids(count: int) -> list[str]:
    """``count`` fresh run ids (uuid4 hex) from one read of the random source.

    For bulk run creation: ``uuid4()`` reads the random source once per id,
    which is most of its cost. Made here rather than with :mod:`uuid`, whose
    import (it loads :mod:`platform`) every command would pay.
    """
    raw = bytearray(os.urandom(16 * count))
    ids = []
    for i in range(0, len(raw), 16):
        raw[i + 6] = (raw[i + 6] & 0x0F) | 0x40  # version 4
        raw[i + 8] = (raw[i + 8] & 0x3F) | 0x80  # RFC 4122 variant
        ids.append(raw[i : i + 16].hex())
    return ids


def new_id() -> str:
    """A fresh random id for any other entity (uuid4 hex)."""
    return new_run_ids(1)[0]


def is_run_id(value: str) -> bool:
    """Whether ``value`` has the form of a run id."""
    return bool(_RUN_ID.match(value))
