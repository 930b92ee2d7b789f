"""The one check every user-given string passes before it is stored: bounded text.

Names, descriptions, tags and URIs of the registry, deployments and datasets
are all strings without NUL (PostgreSQL refuses it) and with a length limit
the database columns hold. ``what`` names the value in the error message.
"""

from __future__ import annotations

from loopml.core.errors import InvalidArgument


def check_text(value: object, what: str, limit: int) -> str:
    """``value`` if it is a string without NUL of at most ``limit`` characters."""
    if not isinstance(value, str):
        raise InvalidArgument(f"Invalid {what} {value!r}: it must be a string.")
    if "\x00" in value:
        raise InvalidArgument(f"Invalid {what} {value[:60]!r}: it contains a NUL character.")
    if len(value) > limit:
        raise InvalidArgument(f"Invalid {what} {value[:40]!r}...: longer than {limit} characters.")
    return value
