"""The rules dataset names, references and values follow, checked before anything is written.

Names follow the registered-model rule (non-empty, no '/' or ':', a name that
stays itself as a folder name) and may not hold '@' either, so a reference
``name@3`` or ``name:3`` always splits one way. A rejected value raises
``InvalidArgument`` naming it and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.core.text import check_text
from loopml.registry import validate_model_name
from loopml.store.dataset_records import DATASET_SCHEME

MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5_000
MAX_DESCRIPTION_LENGTH = 100_000
MAX_VERSION = 2**31 - 1  # versions are 32-bit integers in the database
REFERENCE_HELP = "give NAME, NAME@VERSION or NAME:VERSION, e.g. iris@3"


def validate_dataset_name(name: object) -> str:
    """The registered-model rule, and no '@' (it separates a name from its version)."""
    text = validate_model_name(name, "dataset name")
    if "@" in text:
        raise InvalidArgument(
            f"Invalid dataset name {text!r}: names cannot contain '@' (it separates a name "
            "from a version, as in iris@3)."
        )
    return text


def validate_dataset_version(version: object) -> int:
    """A version number: an int from 1 (or a string of digits, as URLs carry it)."""
    if isinstance(version, str) and version.strip().isdigit() and len(version.strip()) < 12:
        version = int(version.strip())
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidArgument(f"Invalid dataset version {version!r}: versions are integers like 3.")
    if not 1 <= version <= MAX_VERSION:
        raise InvalidArgument(
            f"Invalid dataset version {version}: versions count from 1 (at most {MAX_VERSION})."
        )
    return version


def parse_dataset_ref(ref: object) -> tuple[str, int | None]:
    """``NAME``, ``NAME@VERSION``, ``NAME:VERSION`` or ``loopml-dataset:/NAME/VERSION``.

    Returns (name, version); version None means the newest.
    """
    if not isinstance(ref, str) or not ref:
        raise InvalidArgument(f"Invalid dataset reference {ref!r}: {REFERENCE_HELP}.")
    if ref.startswith(DATASET_SCHEME):
        name, slash, version = ref[len(DATASET_SCHEME) :].partition("/")
        if not slash:
            raise InvalidArgument(
                f"Invalid dataset URI {ref!r}: use {DATASET_SCHEME}<name>/<version>."
            )
        return validate_dataset_name(name), _version_in(ref, version)
    for separator in ("@", ":"):
        if separator in ref:
            name, _, version = ref.rpartition(separator)
            return validate_dataset_name(name), _version_in(ref, version)
    return validate_dataset_name(ref), None


def _version_in(ref: str, text: str) -> int:
    if not text.isdigit():
        raise InvalidArgument(
            f"Invalid dataset reference {ref!r}: {text!r} is not a version number; "
            f"{REFERENCE_HELP}."
        )
    return validate_dataset_version(text)


def validate_description(description: object) -> str:
    if description is None:
        return ""
    return check_text(description, "description", MAX_DESCRIPTION_LENGTH)


def validate_tags(tags: Mapping[Any, Any] | None) -> dict[str, str]:
    """Tags: non-empty keys without control characters; values stored as text."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidArgument(f"Invalid tags {tags!r}: give a mapping of key to value.")
    checked: dict[str, str] = {}
    for key, value in tags.items():
        text = check_text(key, "tag key", MAX_TAG_KEY_LENGTH)
        if not text.strip() or any(ord(c) < 32 for c in text):
            raise InvalidArgument(
                f"Invalid tag key {text!r}: keys are non-empty, without control characters."
            )
        if value is None:
            raise InvalidArgument(f"Tag {text!r} has no value: give a string.")
        shown = value if isinstance(value, str) else str(value)
        checked[text] = check_text(shown, f"value of tag {text!r}", MAX_TAG_VALUE_LENGTH)
    return checked
