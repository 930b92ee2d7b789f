"""Compile parsed registry filters and orderings (``_registry_filter``) into SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, exists

from loopml.store._filter import Comparison
from loopml.store._models import (
    MODEL_VERSION_TAGS,
    MODEL_VERSIONS,
    REGISTERED_MODEL_TAGS,
    REGISTERED_MODELS,
)
from loopml.store._sql_search import compare

_MODEL_COLUMNS: dict[str, Any] = {
    "name": REGISTERED_MODELS.c.name,
    "creation_timestamp": REGISTERED_MODELS.c.creation_time,
    "last_updated_timestamp": REGISTERED_MODELS.c.last_updated_time,
}
_VERSION_COLUMNS: dict[str, Any] = {
    "name": MODEL_VERSIONS.c.name,
    "version_number": MODEL_VERSIONS.c.version,
    "run_id": MODEL_VERSIONS.c.run_id,
    "source_path": MODEL_VERSIONS.c.source,
    "creation_timestamp": MODEL_VERSIONS.c.creation_time,
    "last_updated_timestamp": MODEL_VERSIONS.c.last_updated_time,
}
_DEFAULT_VERSION_ORDER = (
    ("last_updated_timestamp", False),
    ("name", True),
    ("version_number", False),
)


def _model_clause(term: Comparison) -> ColumnElement[bool]:
    if term.kind == "tag":
        # Like MLflow, a model without the tag matches no comparison on it (not even !=).
        return exists().where(
            REGISTERED_MODEL_TAGS.c.name == REGISTERED_MODELS.c.name,
            REGISTERED_MODEL_TAGS.c.key == term.key,
            compare(REGISTERED_MODEL_TAGS.c.value, term.op, term.value),
        )
    return compare(_MODEL_COLUMNS[term.key], term.op, term.value)


def _version_clause(term: Comparison) -> ColumnElement[bool]:
    if term.kind == "tag":
        return exists().where(
            MODEL_VERSION_TAGS.c.name == MODEL_VERSIONS.c.name,
            MODEL_VERSION_TAGS.c.version == MODEL_VERSIONS.c.version,
            MODEL_VERSION_TAGS.c.key == term.key,
            compare(MODEL_VERSION_TAGS.c.value, term.op, term.value),
        )
    column = _VERSION_COLUMNS[term.key]
    if term.key == "run_id" and term.op in ("!=", "NOT IN"):
        # A version without a run is not "another run"; MLflow never matches a missing value.
        return compare(column, term.op, term.value) & column.is_not(None)
    return compare(column, term.op, term.value)


def apply_model_search(
    query: Select[Any], terms: Sequence[Comparison], order: Sequence[tuple[str, bool]]
) -> Select[Any]:
    """Restrict and order a registered-model query; name breaks ties (ascending)."""
    for term in terms:
        query = query.where(_model_clause(term))
    for key, ascending in order:
        column = _MODEL_COLUMNS[key]
        query = query.order_by(column.asc() if ascending else column.desc())
    if not any(key == "name" for key, _ in order):
        query = query.order_by(REGISTERED_MODELS.c.name)
    return query


def apply_version_search(
    query: Select[Any], terms: Sequence[Comparison], order: Sequence[tuple[str, bool]]
) -> Select[Any]:
    """Restrict and order a model-version query as MLflow does (name, then newest, break ties)."""
    for term in terms:
        query = query.where(_version_clause(term))
    order = tuple(order) or _DEFAULT_VERSION_ORDER
    keys = {key for key, _ in order}
    order += tuple(t for t in (("name", True), ("version_number", False)) if t[0] not in keys)
    for key, ascending in order:
        column = _VERSION_COLUMNS[key]
        query = query.order_by(column.asc() if ascending else column.desc())
    return query
