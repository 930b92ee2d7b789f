"""What goes into an audit entry: canonical JSON, summaries without secrets, bounded fields.

A summary is a JSON object a reviewer reads ("what changed"). It must never
keep a secret, so values under keys such as ``password`` or ``token`` are
replaced by ``[redacted]`` (``token_id``, a token's public id, stays), and
API tokens or ``Bearer``/``Basic`` credentials found inside strings are
masked. It is capped at ``MAX_SUMMARY_CHARS`` characters of canonical JSON;
a larger one is replaced by a preview of its text with ``"_truncated": true``.

The times the CLI and the UI accept for ``--since``/``--until`` are parsed here
too, once: a date, a date and time (UTC unless it names a zone), a duration
back from now (``30m``, ``24h``, ``7d``, ``2w``) or epoch milliseconds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.store._sql_audit import FIELD_LIMITS

MAX_SUMMARY_CHARS = 8 * 1024
REDACTED = "[redacted]"
_MAX_DEPTH = 8

_SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "token",
        "secret",
        "authorization",
        "auth",
        "api_key",
        "apikey",
        "cookie",
        "set_cookie",
        "credentials",
        "private_key",
        "access_key",
        "secret_key",
        "session",
        "csrf",
        "csrf_token",
    }
)
_SECRET_SUFFIXES = (
    "_password",
    "_passwd",
    "_secret",
    "_token",
    "_credentials",
    "_api_key",
    "_access_key",
    "_secret_key",
    "_private_key",
)
_TOKEN_IN_TEXT = re.compile(r"\b(lmt_[A-Za-z0-9]+_)[A-Za-z0-9_\-]+")
_CREDENTIAL_IN_TEXT = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE)

_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
TIME_HELP = (
    "a date (2026-11-01), a date and time (2026-11-01T14:30, UTC unless it names a zone), "
    "a duration back from now (30m, 24h, 7d, 2w) or epoch milliseconds"
)


def canonical_json(value: Any) -> str:
    """The one text of a JSON value: sorted keys, no whitespace, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def is_secret_key(key: str) -> bool:
    """Whether a value stored under ``key`` is a credential (compared case-insensitively)."""
    name = key.strip().lower().replace("-", "_")
    return name in _SECRET_KEYS or name.endswith(_SECRET_SUFFIXES)


def mask_text(text: str) -> str:
    """``text`` with API token secrets and HTTP credentials in it replaced."""
    text = _TOKEN_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
    return _CREDENTIAL_IN_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def _plain(value: Any, depth: int) -> Any:
    """``value`` as JSON-safe data, secrets redacted, non-finite floats as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return mask_text(value)
    if depth >= _MAX_DEPTH:
        return mask_text(str(value))[:200]
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if is_secret_key(str(k)) else _plain(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1) for v in value]
    return mask_text(str(value))


def summary_text(summary: Mapping[str, Any] | None) -> str:
    """The JSON text an entry stores for ``summary``: secrets out, at most MAX_SUMMARY_CHARS."""
    if summary is not None and not isinstance(summary, Mapping):
        raise InvalidArgument(f"An audit summary is a JSON object, not {type(summary).__name__}.")
    text = canonical_json(_plain(summary or {}, 0))
    if len(text) <= MAX_SUMMARY_CHARS:
        return text
    keep = MAX_SUMMARY_CHARS - 100
    while True:
        cut = canonical_json(
            {"_truncated": True, "original_chars": len(text), "preview": text[:keep]}
        )
        if len(cut) <= MAX_SUMMARY_CHARS:
            return cut
        keep -= len(cut) - MAX_SUMMARY_CHARS  # escapes made it longer: cut the overshoot


def parse_summary(text: str) -> dict[str, Any]:
    """The summary object of stored text (text that is not an object is kept under ``_text``)."""
    try:
        found = json.loads(text)
    except ValueError:
        return {"_text": text}
    return found if isinstance(found, dict) else {"_text": text}


def fit(value: object, field: str) -> str:
    """``value`` as text that fits the audit column ``field`` (cut; NUL replaced)."""
    text = str(value).replace("\x00", "\ufffd")
    return text[: FIELD_LIMITS[field]]


def parse_time(text: str, *, now: int | None = None) -> int:
    """Epoch milliseconds for a ``--since``/``--until`` value (see the module docstring)."""
    given = str(text).strip()
    if not given:
        raise InvalidArgument(f"An empty time: give {TIME_HELP}.")
    duration = _DURATION.fullmatch(given.lower())
    if duration:
        amount, unit = int(duration.group(1)), duration.group(2)
        return (now_ms() if now is None else now) - amount * _UNITS_MS[unit]
    if given.isdigit():
        return int(given)
    try:
        moment = datetime.fromisoformat(given.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"Invalid time {given!r}: give {TIME_HELP}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_object(text: str) -> tuple[str, str | None]:
    """``TYPE`` or ``TYPE:ID`` (``registered_model:churn``) as (type, id or None)."""
    kind, sep, key = str(text).strip().partition(":")
    if not kind.strip():
        raise InvalidArgument(
            f"Invalid object {text!r}: give TYPE or TYPE:ID, e.g. registered_model:churn."
        )
    return kind.strip(), (key if sep else None)
