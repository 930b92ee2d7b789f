"""MLflow's registry search filters and ``order_by`` clauses, parsed by hand.

The grammar is the run filter's (``_filter``: quoting, AND, comparators, lists)
with the identifiers MLflow's ``SearchModelUtils`` / ``SearchModelVersionUtils``
accept::

    registered models   name                  = != LIKE ILIKE IN NOT IN   'a string'
                        tags.<key>            = != LIKE ILIKE             'a string'
    model versions      name, run_id          = != LIKE ILIKE IN NOT IN   'a string'
                        source_path           = != LIKE ILIKE             'a string'
                        version_number        = != > >= < <=              an integer
                        tags.<key>            = != LIKE ILIKE             'a string'

An ``attribute.`` / ``attributes.`` prefix is allowed, as MLflow allows it.
Order keys: ``name``, ``creation_timestamp``, ``last_updated_timestamp`` (or
``timestamp``), and for versions ``version_number``; then ASC or DESC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from loopml.core.errors import InvalidArgument
from loopml.store._filter import _NUMBER, Comparison, EntityKind, Value, _Parser

RegistryEntity = Literal["model", "version"]

_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS = ("IN", "NOT IN")
_NUMERIC_OPS = ("=", "!=", ">", ">=", "<", "<=")

# attribute -> the comparators it takes, per entity
_ATTRIBUTES: dict[str, dict[str, tuple[str, ...]]] = {
    "model": {"name": _STRING_OPS + _LIST_OPS},
    "version": {
        "name": _STRING_OPS + _LIST_OPS,
        "run_id": _STRING_OPS + _LIST_OPS,
        "source_path": _STRING_OPS,
        "version_number": _NUMERIC_OPS,
    },
}
_ORDER_KEYS: dict[str, dict[str, str]] = {
    "model": {
        "name": "name",
        "creation_timestamp": "creation_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
        "timestamp": "last_updated_timestamp",
    },
    "version": {
        "name": "name",
        "version_number": "version_number",
        "creation_timestamp": "creation_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
        "timestamp": "last_updated_timestamp",
    },
}
_EXAMPLES = {
    "model": "name LIKE 'fraud-%' AND tags.team = 'risk'",
    "version": "name = 'fraud' AND version_number >= 3 AND run_id IN ('a1b2', 'c3d4')",
}
_ORDER = re.compile(r"^\s*(?:attributes?\.)?(\w+)(?:\s+(\w+))?\s*$")
_WHAT = {"model": "registered model", "version": "model version"}


class _RegistryParser(_Parser):
    """The run-filter parser with the registry's identifiers and value types."""

    def __init__(self, text: str, entity: RegistryEntity) -> None:
        super().__init__(text, "filter")
        self.entity = entity

    def fail(self, problem: str, pos: int | None = None, example: str = "") -> InvalidArgument:
        text = self.text if len(self.text) <= 200 else self.text[:200] + "..."
        at = self.pos if pos is None else pos
        return InvalidArgument(
            f"Invalid {_WHAT[self.entity]} filter {text!r}: {problem} (at position {at}). "
            f"Example: {_EXAMPLES[self.entity]}"
        )

    def registry_identifier(self) -> tuple[EntityKind, str]:
        start = self.pos
        first, quoted = self.segment()
        if first is None:
            raise self.fail(f"expected a key, found {self.found()}")
        kind: EntityKind = "attribute"
        key = first
        if not quoted and self.peek() == ".":
            self.pos += 1
            if first in ("tag", "tags"):
                kind = "tag"
            elif first not in ("attribute", "attributes"):
                raise self.fail(f"unknown entity {first!r}; use tags.<key> or an attribute", start)
            part, quoted = self.segment()
            parts = [part]
            while part is not None and not quoted and self.peek() == ".":
                self.pos += 1
                part, quoted = self.segment()
                parts.append(None if quoted else part)
            named = [p for p in parts if p]
            if len(named) != len(parts):
                raise self.fail(
                    f"bad key after {first + '.'!r}; quote keys holding special characters "
                    "in backticks, e.g. tags.`my key`",
                    start,
                )
            key = ".".join(named)
        if kind == "attribute" and key not in _ATTRIBUTES[self.entity]:
            valid = ", ".join(sorted(_ATTRIBUTES[self.entity]))
            raise self.fail(f"unknown attribute {key!r} (use {valid} or tags.<key>)", start)
        return kind, key

    def comparison(self) -> Comparison:
        kind, key = self.registry_identifier()
        spaced = self.skip_ws()
        start = self.pos
        op = self.operator(kind, key, spaced)
        allowed = _STRING_OPS if kind == "tag" else _ATTRIBUTES[self.entity][key]
        if op not in allowed:
            raise self.fail(
                f"comparator {op} is not allowed for {kind} {key!r} (allowed: "
                f"{', '.join(allowed)})",
                start,
            )
        self.skip_ws()
        return Comparison(kind, key, op, self.registry_value(op, kind, key))

    def registry_value(self, op: str, kind: EntityKind, key: str) -> Value:
        if op in _LIST_OPS:
            return self.string_list(op)
        start, char = self.pos, self.peek()
        numeric = kind == "attribute" and key == "version_number"
        if char in ("'", '"'):
            text = self.quoted(char)
            if numeric:
                if not text.strip().isdigit():
                    raise self.fail(f"version_number takes an integer, not {text!r}", start)
                return int(text)
            return text
        number = self.read(_NUMBER)
        if number is not None:
            if not numeric:
                raise self.fail(f"{kind} {key!r} takes a quoted string, not {number}", start)
            if not number.lstrip("-").isdigit() or len(number) > 18:
                raise self.fail(f"version_number takes an integer, not {number}", start)
            return int(number)
        what = "an integer" if numeric else "a quoted string"
        raise self.fail(f"expected {what}, found {self.found()}", start)


def parse_registry_filter(
    filter_string: str | None, entity: RegistryEntity
) -> tuple[Comparison, ...]:
    """The comparisons an MLflow registry filter ANDs together (``()`` for none).

    ``kind`` is ``"attribute"`` or ``"tag"``; InvalidArgument names the offending
    token, its position and an example when the filter is malformed.
    """
    if not isinstance(filter_string, str | None):
        raise InvalidArgument(f"A filter is a string, got {filter_string!r}.")
    if filter_string is None or not filter_string.strip():
        return ()
    if "\x00" in filter_string:
        raise InvalidArgument(f"Invalid {_WHAT[entity]} filter: it contains a NUL character.")
    return _RegistryParser(filter_string, entity).conjunction()


def parse_registry_order(
    clauses: Sequence[str] | str | None, entity: RegistryEntity
) -> tuple[tuple[str, bool], ...]:
    """``(canonical key, ascending)`` per ``order_by`` clause; InvalidArgument if malformed."""
    if clauses is None:
        return ()
    if isinstance(clauses, str):
        clauses = [clauses]
    keys = _ORDER_KEYS[entity]
    result: list[tuple[str, bool]] = []
    for clause in clauses:
        match = _ORDER.fullmatch(clause) if isinstance(clause, str) else None
        direction = (match.group(2) or "ASC").upper() if match else ""
        if match is None or match.group(1) not in keys or direction not in ("ASC", "DESC"):
            raise InvalidArgument(
                f"Invalid {_WHAT[entity]} order_by clause {clause!r}: use one of "
                f"{', '.join(sorted(keys))}, then ASC or DESC."
            )
        key = keys[match.group(1)]
        if any(key == seen for seen, _ in result):
            raise InvalidArgument(f"Invalid order_by {list(clauses)!r}: {key!r} is listed twice.")
        result.append((key, direction == "ASC"))
    return tuple(result)
