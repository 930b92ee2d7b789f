"""Columns of the runs table: which to show, their cells, and the store's ``order_by`` for each.

A column is ``<kind>.<key>`` with kind ``attributes``, ``metrics``, ``params`` or ``tags``,
the same prefixes the filter language uses, so a column name pastes into a filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.store import Run

KINDS = ("metrics", "params", "tags")
# Attribute columns the table always shows, with the store's order_by name for each.
ATTRIBUTES = {
    "run_name": "Run",
    "status": "Status",
    "start_time": "Started (UTC)",
    "duration": "Duration",
    "user_id": "User",
}
_SORTABLE_ATTRIBUTES = {"run_name", "status", "start_time", "end_time", "user_id"}
DEFAULT_PER_KIND = 8
MAX_COLUMNS = 1000
SYSTEM_TAG_PREFIX = "mlflow."


@dataclass(frozen=True, slots=True)
class Column:
    """One chosen column: ``kind`` (metrics, params, tags) and the key within it."""

    kind: str
    key: str

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.key}"

    def value(self, run: Run) -> Any:
        source: dict[str, Any] = getattr(run.data, self.kind)
        return source.get(self.key)


def parse_column(name: str) -> Column:
    """``metrics.loss`` -> Column("metrics", "loss"); anything else is a clear error."""
    kind, dot, key = name.partition(".")
    if not dot or kind not in KINDS or not key:
        raise InvalidArgument(
            f"Invalid column {name!r}: use metrics.<key>, params.<key> or tags.<key>."
        )
    return Column(kind, key)


def chosen_columns(names: Sequence[str] | None, runs: Sequence[Run]) -> list[Column]:
    """The columns the URL names, or (none named) the first keys of each kind on this page."""
    if names:
        if len(names) > MAX_COLUMNS:
            raise InvalidArgument(f"Too many columns: {len(names)} (at most {MAX_COLUMNS}).")
        return list(dict.fromkeys(parse_column(n) for n in names if n))
    keys = available_keys(runs)
    return [
        Column(kind, key) for kind in ("metrics", "params") for key in keys[kind][:DEFAULT_PER_KIND]
    ]


def available_keys(runs: Iterable[Run]) -> dict[str, list[str]]:
    """Every metric, param and (non-system) tag key on these runs, sorted, for the chooser."""
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for run in runs:
        found["metrics"].update(run.data.metrics)
        found["params"].update(run.data.params)
        found["tags"].update(k for k in run.data.tags if not k.startswith(SYSTEM_TAG_PREFIX))
    return {kind: sorted(keys) for kind, keys in found.items()}


def chooser_keys(keys: dict[str, list[str]], shown: Sequence[Column]) -> dict[str, list[str]]:
    """The keys a chooser lists: the experiment's (system tags left out) and those shown."""
    found = {kind: set(keys.get(kind, ())) for kind in KINDS}
    found["tags"] = {k for k in found["tags"] if not k.startswith(SYSTEM_TAG_PREFIX)}
    for column in shown:
        found[column.kind].add(column.key)
    return {kind: sorted(found[kind]) for kind in KINDS}


def order_by(sort: str, descending: bool) -> list[str]:
    """The store's ``order_by`` for a column name (``metrics.loss``) or attribute name."""
    direction = "DESC" if descending else "ASC"
    if sort in _SORTABLE_ATTRIBUTES:
        return [f"attributes.{sort} {direction}"]
    column = parse_column(sort)
    if "`" in column.key:
        raise InvalidArgument(f"Cannot sort by {sort!r}: its key holds a backtick.")
    return [f"{column.kind}.`{column.key}` {direction}"]
