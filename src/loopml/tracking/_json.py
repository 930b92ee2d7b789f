"""Compact JSON for the remote hot path (batches sent to the server and spooled).

orjson is several times faster than the standard encoder, but it writes NaN
and infinity as ``null``. Batches whose metric values are all finite (nearly
all) go through orjson; the rest through the standard encoder, which writes
the ``NaN``/``Infinity`` constants the server reads back as numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import orjson


def dumps(payload: Any, floats: Iterable[float] = ()) -> bytes:
    """``payload`` as compact JSON bytes; ``floats`` are the values that may be non-finite."""
    if all(map(math.isfinite, floats)):
        return orjson.dumps(payload)
    return json.dumps(payload, separators=(",", ":")).encode()
