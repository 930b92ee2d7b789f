"""Opaque page tokens (an offset, base64-encoded JSON, as MLflow does)."""

from __future__ import annotations

import base64
import binascii
import json

from loopml.core.errors import InvalidArgument

MAX_OFFSET = 2**62  # well inside SQLite's and PostgreSQL's 64-bit OFFSET


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    """The offset a token stands for; 0 for no token."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(f"Invalid page token {token!r}: pass back a token you got.") from exc
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidArgument(f"Invalid page token {token!r}: pass back a token you got.")
    return offset


def check_max_results(max_results: int, limit: int) -> None:
    if not isinstance(max_results, int) or not 0 < max_results <= limit:
        raise InvalidArgument(f"max_results must be between 1 and {limit}, got {max_results!r}.")
