"""The registry's naming and value rules (MLflow's), checked before anything is written.

A rejected call raises ``InvalidArgument`` naming the value and the rule, and
nothing of it reaches the store.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.text import check_text
from loopml.store import Stage

MAX_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000  # MLflow's registry limit
MAX_TEXT_LENGTH = 100_000  # descriptions and sources
MAX_REASON_LENGTH = 5_000
MAX_USER_LENGTH = 256
MAX_VERSION = 2**31 - 1  # versions are 32-bit integers in the database

_ALIAS = re.compile(r"^[A-Za-z0-9_\-]+$")
_VERSION_LIKE_ALIAS = re.compile(r"^[vV]\d+$")
_TAG_KEY = re.compile(r"^[/\w.\- :]+$")
_STAGES = {stage.value.lower(): stage for stage in Stage}


def validate_model_name(name: object, what: str = "registered model name") -> str:
    """MLflow's rule: non-empty, no '/' or ':', a name that stays itself as a path."""
    text = check_text(name, what, MAX_NAME_LENGTH)
    if not text.strip():
        raise InvalidArgument(f"Invalid {what} {text!r}: it must not be empty.")
    if "/" in text or ":" in text:
        raise InvalidArgument(f"Invalid {what} {text!r}: names cannot contain '/' or ':'.")
    normal = posixpath.normpath(text)
    if normal != text or normal == "." or normal.startswith(".."):
        raise InvalidArgument(
            f"Invalid {what} {text!r}: names may be used as folder names and must not "
            f"resolve to another name (this one resolves to {normal!r})."
        )
    if any(ord(c) < 32 for c in text):
        raise InvalidArgument(f"Invalid {what} {text!r}: it contains a control character.")
    return text


def validate_alias(alias: object) -> str:
    """MLflow's alias rule: letters, digits, '_' and '-'; not 'latest', not like 'v3'."""
    text = check_text(alias, "alias", MAX_ALIAS_LENGTH)
    if not _ALIAS.match(text):
        raise InvalidArgument(
            f"Invalid alias {text!r}: aliases are non-empty and may only contain letters, "
            "digits, underscores (_) and dashes (-)."
        )
    if text.lower() == "latest":
        raise InvalidArgument("Invalid alias 'latest': it is reserved (models:/name/latest).")
    if _VERSION_LIKE_ALIAS.match(text):
        raise InvalidArgument(
            f"Invalid alias {text!r}: names like v<number> are reserved for versions."
        )
    return text


def validate_version(version: object, name: str) -> int:
    """A version number (an int, or a string of digits as MLflow sends it)."""
    if isinstance(version, bool):
        raise InvalidArgument(f"Invalid version {version!r}: versions are integers like 3.")
    if isinstance(version, str) and version.strip().isdigit() and len(version.strip()) < 20:
        version = int(version.strip())
    if not isinstance(version, int):
        raise InvalidArgument(f"Invalid version {version!r}: versions are integers like 3.")
    if not 1 <= version <= MAX_VERSION:
        raise NotFound(f"Registered model {name!r} has no version {version}.")
    return version


def validate_tag(key: object, value: object) -> tuple[str, str]:
    """A registry tag: MLflow's key characters, a normalized path, value within limits."""
    text = check_text(key, "tag key", MAX_TAG_KEY_LENGTH)
    if not text or not _TAG_KEY.match(text):
        raise InvalidArgument(
            f"Invalid tag key {text!r}: keys are non-empty and may only contain alphanumerics, "
            "underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)."
        )
    if text.startswith("/") or posixpath.normpath(text) != text or ".." in text.split("/"):
        raise InvalidArgument(
            f"Invalid tag key {text!r}: it must be a normalized relative path "
            "(no leading '/', no '..', '.', or '//' segments)."
        )
    if value is None:
        raise InvalidArgument(f"Tag {text!r} has no value: give a string.")
    shown = value if isinstance(value, str) else str(value)
    return text, check_text(shown, f"value of tag {text!r}", MAX_TAG_VALUE_LENGTH)


def validate_tags(tags: Mapping[Any, Any] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidArgument(f"Invalid tags {tags!r}: give a mapping of key to value.")
    return dict(validate_tag(k, v) for k, v in tags.items())


def validate_description(description: object) -> str:
    if description is None:
        return ""
    return check_text(description, "description", MAX_TEXT_LENGTH)


def validate_reason(reason: object) -> str:
    return check_text("" if reason is None else reason, "reason", MAX_REASON_LENGTH)


def validate_user(user: object) -> str:
    return check_text(user, "user", MAX_USER_LENGTH)


def validate_source(source: object) -> str:
    text = check_text(source, "source", MAX_TEXT_LENGTH)
    if not text.strip():
        raise InvalidArgument("Invalid source '': give where the model comes from, e.g. runs:/...")
    return text


def validate_stage(stage: object) -> Stage:
    """A legacy stage, case-insensitive as MLflow accepts it."""
    found = _STAGES.get(stage.lower()) if isinstance(stage, str) else None
    if found is None:
        names = ", ".join(s.value for s in Stage)
        raise InvalidArgument(f"Invalid stage {stage!r}: use one of {names}.")
    return found
