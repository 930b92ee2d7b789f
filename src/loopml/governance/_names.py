"""The one rule for user, token and workspace names."""

from __future__ import annotations

import re

from loopml.core.errors import InvalidArgument

MAX_NAME = 128
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,128}")


def check_name(value: object, what: str) -> str:
    """``value`` if it is 1-128 letters, digits, ``_ . @ -``; else ``InvalidArgument``.

    Names appear in URLs, audit entries and log lines, so they carry no spaces,
    slashes or control characters.
    """
    if isinstance(value, str) and _NAME.fullmatch(value):
        return value
    shown = repr(value)[:80]
    raise InvalidArgument(
        f"Invalid {what} name {shown}: use 1-{MAX_NAME} letters, digits, '_', '.', '@' or '-'."
    )
