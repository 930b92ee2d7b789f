"""Compile parsed run-search filters and orderings into SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, not_, or_, select

from loopml.core.errors import InvalidArgument
from loopml.store._filter import Comparison, OrderBy
from loopml.store._models import LATEST_METRICS, PARAMS, RUN_INPUTS, RUNS, TAGS

_ATTRIBUTE_COLUMNS = {
    "run_id": RUNS.c.run_uuid,
    "run_uuid": RUNS.c.run_uuid,
    "run_name": RUNS.c.name,
    "status": RUNS.c.status,
    "start_time": RUNS.c.start_time,
    "created": RUNS.c.start_time,
    "end_time": RUNS.c.end_time,
    "artifact_uri": RUNS.c.artifact_uri,
    "user_id": RUNS.c.user_id,
    "lifecycle_stage": RUNS.c.lifecycle_stage,
    "experiment_id": RUNS.c.experiment_id,
}
_DATASET_COLUMNS = {
    "name": RUN_INPUTS.c.name,
    "digest": RUN_INPUTS.c.digest,
    "context": RUN_INPUTS.c.context,
}


def compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    match op:
        case "=":
            return column == value
        case "!=":
            return column != value
        case ">":
            return column > value
        case ">=":
            return column >= value
        case "<":
            return column < value
        case "<=":
            return column <= value
        case "LIKE":
            return column.like(value)
        case "ILIKE":
            return column.ilike(value)
        case "IN":
            return column.in_(list(value)) if value else false()
        case "NOT IN":
            return column.not_in(list(value)) if value else ~false()
    raise InvalidArgument(f"Unsupported comparator {op!r}.")


_KEYED = {"metric": LATEST_METRICS, "param": PARAMS, "tag": TAGS}
_NULL_OPS = ("IS NULL", "IS NOT NULL")


def _runs_with(table: Any, key: str) -> Any:
    """Runs that have ``key`` at all (for IS [NOT] NULL)."""
    return RUNS.c.run_uuid.in_(select(table.c.run_uuid).where(table.c.key == key))


def _join_value(query: Select[Any], comparison: Comparison, index: int) -> Select[Any]:
    # A table holds at most one row per (run, key), so an inner join filters
    # without duplicating runs, and lets the planner start from the most
    # selective (key, value) index instead of visiting every run.
    alias = _KEYED[comparison.kind].alias(f"filter_{index}")
    condition = compare(alias.c.value, comparison.op, comparison.value)
    if comparison.kind == "metric":
        condition = and_(condition, alias.c.is_nan.is_(False))
    on = and_(alias.c.run_uuid == RUNS.c.run_uuid, alias.c.key == comparison.key)
    return query.join(alias, on).where(condition)


def _clause(comparison: Comparison) -> ColumnElement[bool]:
    kind, key, op, value = comparison.kind, comparison.key, comparison.op, comparison.value
    if kind == "attribute":
        column = _ATTRIBUTE_COLUMNS.get(key)
        if column is None:
            raise InvalidArgument(f"Unknown run attribute {key!r} in the filter.")
        if op == "IS NULL":
            return column.is_(None)
        if op == "IS NOT NULL":
            return column.is_not(None)
        return compare(column, op, value)
    if kind == "dataset":
        column = _DATASET_COLUMNS.get(key)
        if column is None:
            raise InvalidArgument(f"Unknown dataset field {key!r}: use name, digest or context.")
        return RUNS.c.run_uuid.in_(select(RUN_INPUTS.c.run_uuid).where(compare(column, op, value)))
    has_key = _runs_with(_KEYED[kind], key)
    return not_(has_key) if op == "IS NULL" else has_key


def apply_filter(query: Select[Any], comparisons: Sequence[Comparison]) -> Select[Any]:
    """Restrict ``query`` by every comparison (they are joined by AND)."""
    for index, comparison in enumerate(comparisons):
        if comparison.kind in _KEYED and comparison.op not in _NULL_OPS:
            query = _join_value(query, comparison, index)
        else:
            query = query.where(_clause(comparison))
    return query


def apply_order(query: Select[Any], order_by: Sequence[OrderBy]) -> Select[Any]:
    """Order as MLflow does: the given keys (missing values last), then newest first."""
    for index, clause in enumerate(order_by):
        column: Any
        if clause.kind == "attribute":
            column = _ATTRIBUTE_COLUMNS.get(clause.key)
            if column is None:
                raise InvalidArgument(f"Unknown run attribute {clause.key!r} in order_by.")
        elif clause.kind in ("metric", "param", "tag"):
            table = _KEYED[clause.kind]
            column = (
                select(table.c.value)
                .where(table.c.run_uuid == RUNS.c.run_uuid, table.c.key == clause.key)
                .scalar_subquery()
                .label(f"order_{index}")
            )
        else:
            raise InvalidArgument(f"Cannot order runs by {clause.kind} fields.")
        query = query.order_by(
            column.is_(None), column.asc() if clause.ascending else column.desc()
        )
    return query.order_by(RUNS.c.start_time.desc(), RUNS.c.run_uuid)


def stage_filter(stages: Sequence[str]) -> ColumnElement[bool]:
    return or_(*(RUNS.c.lifecycle_stage == stage for stage in stages))
