"""Dotted keys of a nested configuration: listing, looking up, suggesting close matches.

Shared by composition (override checks) and interpolation (``${a.b}``), which both
name values by their dotted path and both answer a typo with the nearest keys.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def dotted(path: Sequence[Any]) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


# -- lookups and text ------------------------------------------------------------------


def lookup(data: Any, parts: Sequence[str]) -> Any:
    node = data
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def dotted_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every key path of nested mappings (``train``, ``train.lr``), for close matches."""
    keys: list[str] = []
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        keys.append(dotted)
        if isinstance(value, Mapping):
            keys.extend(dotted_keys(value, dotted))
    return keys


def hint(key: str, data: Mapping[str, Any]) -> str:
    """``"; did you mean 'a' or 'b'?"`` with the closest keys, or ``"."`` when none is close."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, key, other).ratio(), other) for other in dotted_keys(data)),
        reverse=True,
    )
    best = scored[0][0] if scored else 0.0
    # Only the keys about as close as the best one: a typo has one intended key.
    matches = [repr(other) for ratio, other in scored[:3] if ratio >= max(0.6, best - 0.1)]
    if not matches:
        return "."
    listed = matches[0] if len(matches) == 1 else f"{', '.join(matches[:-1])} or {matches[-1]}"
    return f"; did you mean {listed}?"


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple | Mapping):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)
