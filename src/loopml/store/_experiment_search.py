"""Experiment search: MLflow's experiment filter and order_by, as SQL.

The filter grammar is the run grammar with experiment identifiers::

    name            = != LIKE ILIKE      'a string'
    experiment_id   = != IN NOT IN       '3', ('1', '2')
    creation_time, last_update_time      = != > >= < <=   a number (ms)
    tags.<key>      = != LIKE ILIKE, IS [NOT] NULL

Without an ``order_by`` experiments come by id; the MLflow API passes MLflow's
default (newest first) itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, not_

from loopml.core.errors import InvalidArgument
from loopml.store._filter import Comparison, parse_filter
from loopml.store._filter_terms import rewrite_terms
from loopml.store._models import EXPERIMENT_TAGS, EXPERIMENTS
from loopml.store._sql_search import compare

# Experiment identifier -> the run attribute the run parser types it as.
_AS_RUN_ATTRIBUTE = {
    "name": "attributes.run_name",
    "experiment_id": "attributes.run_id",
    "creation_time": "attributes.start_time",
    "last_update_time": "attributes.end_time",
}
_COLUMNS: dict[str, Any] = {
    "run_name": EXPERIMENTS.c.name,
    "run_id": EXPERIMENTS.c.experiment_id,
    "start_time": EXPERIMENTS.c.creation_time,
    "end_time": EXPERIMENTS.c.last_update_time,
}
_ORDER_COLUMNS: dict[str, Any] = {
    "name": EXPERIMENTS.c.name,
    "experiment_id": EXPERIMENTS.c.experiment_id,
    "creation_time": EXPERIMENTS.c.creation_time,
    "last_update_time": EXPERIMENTS.c.last_update_time,
}
_ORDER = re.compile(r"^\s*(?:attributes?\.)?(\w+)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)


def _identifier(identifier: str) -> str:
    prefix, _, key = identifier.partition(".")
    if key and prefix in ("tag", "tags"):
        return "tags." + key
    if key and prefix in ("attribute", "attributes"):
        identifier = key
    if identifier in _AS_RUN_ATTRIBUTE:
        return _AS_RUN_ATTRIBUTE[identifier]
    raise InvalidArgument(
        f"Invalid experiment filter key {identifier!r}: use name, experiment_id, "
        "creation_time, last_update_time or tags.<key>."
    )


def parse_experiment_filter(filter_string: str | None) -> tuple[Comparison, ...]:
    """The terms of an experiment filter, typed by the run parser."""
    if not filter_string or not filter_string.strip():
        return ()
    return parse_filter(rewrite_terms(filter_string, lambda key, rest: _identifier(key) + rest))


def parse_experiment_order(clauses: Sequence[str] | None) -> list[tuple[Any, bool]]:
    """``(column, ascending)`` per clause; InvalidArgument on an unknown key."""
    order = []
    for clause in clauses or ():
        match = _ORDER.match(clause) if isinstance(clause, str) else None
        if match is None or match.group(1) not in _ORDER_COLUMNS:
            raise InvalidArgument(
                f"Invalid experiment order_by clause {clause!r}: use name, experiment_id, "
                "creation_time or last_update_time, then ASC or DESC."
            )
        order.append((_ORDER_COLUMNS[match.group(1)], (match.group(2) or "ASC").upper() == "ASC"))
    return order


def _ids(values: Any) -> list[int]:
    return [int(v) for v in values if str(v).isdigit() and int(v) < 2**31]


def _clause(term: Comparison) -> ColumnElement[bool]:
    if term.kind == "tag":
        has_key = exists().where(
            EXPERIMENT_TAGS.c.experiment_id == EXPERIMENTS.c.experiment_id,
            EXPERIMENT_TAGS.c.key == term.key,
        )
        if term.op == "IS NULL":
            return not_(has_key)
        if term.op == "IS NOT NULL":
            return has_key
        return exists().where(
            EXPERIMENT_TAGS.c.experiment_id == EXPERIMENTS.c.experiment_id,
            EXPERIMENT_TAGS.c.key == term.key,
            compare(EXPERIMENT_TAGS.c.value, term.op, term.value),
        )
    column = _COLUMNS[term.key]
    if term.key == "run_id":  # experiment ids: strings on the wire, integers in the table
        if term.op in ("IN", "NOT IN"):
            ids = _ids(term.value or ())
            inside = column.in_(ids) if ids else false()
            return inside if term.op == "IN" else not_(inside)
        if term.op in ("=", "!="):
            ids = _ids([term.value])
            match = column == ids[0] if ids else false()
            return match if term.op == "=" else not_(match)
        raise InvalidArgument("experiment_id takes =, !=, IN or NOT IN.")
    return compare(column, term.op, term.value)


def apply_experiment_search(
    query: Select[Any], terms: Sequence[Comparison], order: Sequence[tuple[Any, bool]]
) -> Select[Any]:
    """``query`` over experiments, restricted by ``terms`` and ordered by ``order`` then id."""
    if terms:
        query = query.where(and_(*(_clause(t) for t in terms)))
    for column, ascending in order:
        query = query.order_by(column.asc() if ascending else column.desc())
    return query.order_by(EXPERIMENTS.c.experiment_id)
