"""Point-in-time correct training sets: one DuckDB ASOF LEFT JOIN per feature view.

For each entity row and each view, the feature values come from the view's
latest row with the same join keys and an event timestamp at or before the
entity's, and no older than the view's TTL; nothing qualifying gives nulls,
never a dropped row. Rows tied on event timestamp are told apart by their
created timestamp (later wins), then by their position in the source (later
wins), so the same data always gives the same training set.

Speed comes from letting DuckDB do all of it in one query: the ASOF join
compares one ordering key per row, a struct of (event time, created time,
row position) in the source's own types (``rank_fields``), so ties are
settled inside the join instead of by a separate deduplication pass. A
source known to have no ties on (join keys, event time) is ordered by event
time alone, which is cheaper and gives the same rows; that knowledge is
remembered per source content (``_ties``), never guessed. Only
the entity side is cast when types differ; sources are scanned by DuckDB
with only the needed columns read; the entity frame goes in and the feature
columns come out as Arrow, without a pandas round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidArgument
from loopml.features._definitions import FeatureView
from loopml.features._duck import (
    DUCKDB_TYPE,
    NULL_TYPE,
    connect,
    epoch,
    floor_cast,
    positions,
    quote,
    struct,
    to_arrow,
)
from loopml.features._entity_frame import entity_table
from loopml.features._sources import NUMERIC_TYPES, SourceScan, rank_fields, scan_source
from loopml.features._ties import FileTieCache, NoTieCache, TieCache, ties_possible
from loopml.features._training_set import TrainingSet

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from loopml.tracking import Client

ENTITIES = "__loopml_entities"
ROW = "__loopml_row"
ORDER_KEY = "__loopml_order"


@dataclass(frozen=True, slots=True)
class ViewRequest:
    """Features wanted from one view (all of them when ``features`` is empty)."""

    view: FeatureView
    features: tuple[str, ...] = ()

    @property
    def selected(self) -> tuple[str, ...]:
        return self.features or self.view.features


def join_views(
    entity_df: Any,
    requests: Sequence[ViewRequest],
    *,
    timestamp_column: str = "event_timestamp",
    full_feature_names: bool = False,
    client_factory: Callable[[], Client] | None = None,
    tie_cache: TieCache | None = None,
) -> TrainingSet:
    """The entity rows of ``entity_df`` (same order, duplicates kept) with their features.

    Feature columns are named after the feature, or ``view__feature`` with
    ``full_feature_names`` (needed when two views share a feature name).
    InvalidArgument for a missing join key or timestamp column, mixed
    aware/naive timestamps, or a source that does not match its view.
    ``tie_cache`` remembers which sources have no event-time ties (default:
    the client's loopml home; without a client, none is remembered).
    """
    requests = _merged(requests)
    if not requests:
        raise InvalidArgument("Name at least one feature for the training set.")
    table = entity_table(
        entity_df, timestamp_column, [k for r in requests for k in r.view.join_keys]
    )
    outputs = _output_names(requests, table.column_names, full_feature_names)
    joined, versions = join_table(
        table, timestamp_column, requests, outputs, client_factory, tie_cache=tie_cache
    )
    refs = [f"{r.view.name}:{f}" for r in requests for f in r.selected]
    return TrainingSet(joined, refs, versions, client_factory=client_factory)


def join_table(
    table: pa.Table,
    timestamp_column: str,
    requests: Sequence[ViewRequest],
    outputs: Sequence[Sequence[str]],
    client_factory: Callable[[], Client] | None,
    *,
    tie_cache: TieCache | None = None,
) -> tuple[pa.Table, dict[str, str]]:
    """The joined table (entity columns, then ``outputs``) and each view's source digest."""
    cache = tie_cache if tie_cache is not None else _default_tie_cache(client_factory)
    conn = connect()
    try:
        conn.register(ENTITIES, table.append_column(ROW, positions(table.num_rows)))
        scans = [
            scan_source(conn, r.view, f"v{i}", client_factory=client_factory)
            for i, r in enumerate(requests)
        ]
        entity_types = _describe_entities(conn)
        _check_key_types(entity_types, scans)
        tie_break = [
            ties_possible(conn, scan, rank_fields(scan)[0].sql, entity_types, cache)
            for scan in scans
        ]
        sql = _join_sql(entity_types, timestamp_column, requests, scans, outputs, tie_break)
        features = to_arrow(conn.sql(sql))
        if not all(b or scan.unchanged() for b, scan in zip(tie_break, scans, strict=True)):
            # A file changed under the join: what DuckDB read may have ties after all.
            tie_break = [True] * len(scans)
            sql = _join_sql(entity_types, timestamp_column, requests, scans, outputs, tie_break)
            features = to_arrow(conn.sql(sql))
        versions = {scan.view.name: scan.digest.result() for scan in scans}
    finally:
        conn.close()
    # One row per entity row, in order: the entity columns are the caller's, untouched.
    result = table
    for name in features.column_names:
        result = result.append_column(features.schema.field(name), features.column(name))
    return result, versions


def _default_tie_cache(client_factory: Callable[[], Client] | None) -> TieCache:
    """The verdicts of the client's loopml home; none without a client."""
    if client_factory is None:
        return NoTieCache()
    return FileTieCache.under(client_factory().settings.home)


def _merged(requests: Sequence[ViewRequest]) -> list[ViewRequest]:
    """One request per view, its features in first-asked order."""
    by_view: dict[str, tuple[FeatureView, list[str]]] = {}
    for request in requests:
        view, wanted = by_view.setdefault(request.view.name, (request.view, []))
        if view != request.view:
            raise InvalidArgument(f"Two different definitions of feature view {view.name!r}.")
        for name in request.selected:
            if name not in view.features:
                raise InvalidArgument(f"Feature view {view.name!r} has no feature {name!r}.")
            if name not in wanted:
                wanted.append(name)
    return [ViewRequest(view, tuple(wanted)) for view, wanted in by_view.values()]


def _output_names(
    requests: Sequence[ViewRequest], entity_columns: Sequence[str], full: bool
) -> list[list[str]]:
    seen = {c: "the entity frame" for c in entity_columns}
    names: list[list[str]] = []
    for request in requests:
        mine = []
        for feature in request.selected:
            name = f"{request.view.name}__{feature}" if full else feature
            if name in seen:
                raise InvalidArgument(
                    f"Feature column {name!r} of view {request.view.name!r} collides with "
                    f"{seen[name]}: pass full_feature_names=True or rename the column."
                )
            seen[name] = f"feature view {request.view.name!r}"
            mine.append(name)
        names.append(mine)
    return names


def _kind(duck_type: str) -> str:
    """What a join key's values are, for comparing key types: numbers, text, or the type."""
    if duck_type in NUMERIC_TYPES or duck_type.startswith("DECIMAL"):
        return "number"
    return duck_type


def _describe_entities(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The registered entity frame's columns and their DuckDB types, in order."""
    rows = conn.execute(f"DESCRIBE SELECT * FROM {quote(ENTITIES)}").fetchall()
    return {str(row[0]): str(row[1]) for row in rows}


def _check_key_types(entity: dict[str, str], scans: Sequence[SourceScan]) -> None:
    for scan in scans:
        for key in scan.view.join_keys:
            mine, theirs = entity[key], scan.columns[key]
            if _kind(mine) != _kind(theirs) and NULL_TYPE not in (mine, theirs):
                raise InvalidArgument(
                    f"Join key {key!r} is {mine} in entity_df but {theirs} in the source of "
                    f"feature view {scan.view.name!r}: give entity_df keys of the same type."
                )


def _join_sql(
    entity_types: dict[str, str],
    timestamp_column: str,
    requests: Sequence[ViewRequest],
    scans: Sequence[SourceScan],
    outputs: Sequence[Sequence[str]],
    tie_break: Sequence[bool],
) -> str:
    """One query: the entity rows, ASOF LEFT JOINed with each view, in entity order.

    Where ``tie_break`` holds, each side's ordering key is a struct compared
    field by field: (event time, created time, source row position) for
    feature rows, and (entity time, NULL, NULL) for entity rows; NULL sorts
    after every value, so an entity row matches the greatest feature row at or
    before its time. Elsewhere (no ties) both keys are the event time alone.
    """
    ts = quote(timestamp_column)
    entity_ts_type = entity_types[timestamp_column]
    entity_keys = []
    select: list[str] = []
    joins = []
    rows = zip(requests, scans, outputs, tie_break, strict=True)
    for i, (request, scan, names, ties) in enumerate(rows):
        alias, order_key = f"v{i}", f"{ORDER_KEY}{i}"
        view, source = request.view, request.view.source
        fields = rank_fields(scan) if ties else rank_fields(scan)[:1]
        entity_time = floor_cast(ts, entity_ts_type, fields[0].type)
        if ties:
            entity_fields = {f.name: f"NULL::{f.type}" for f in fields}
            entity_fields["t"] = entity_time
            entity_order = f"CASE WHEN {ts} IS NOT NULL THEN {struct(entity_fields)} END"
            order, event = struct({f.name: f.sql for f in fields}), f"{alias}.{order_key}.t"
        else:
            entity_order, order, event = entity_time, fields[0].sql, f"{alias}.{order_key}"
        entity_keys.append(f"{entity_order} AS {order_key}")
        keys = [quote(k) for k in view.join_keys]
        wanted = [f"{quote(f)} AS {quote(f'f{j}')}" for j, f in enumerate(request.selected)]
        joins.append(
            f"ASOF LEFT JOIN (SELECT {', '.join(keys + wanted)}, {order} AS {order_key} "
            f"FROM {scan.relation} WHERE {quote(source.timestamp_field)} IS NOT NULL)"
            f" {alias} ON "
            + " AND ".join(f"e.{k} = {alias}.{k}" for k in keys)
            + f" AND e.{order_key} >= {alias}.{order_key}"
        )
        fresh = None
        if view.ttl is not None:
            # Integer instants in the finer unit of the two sides: exact, whatever the types.
            nanos = "TIMESTAMP_NS" in (fields[0].type, entity_ts_type)
            span = view.ttl // timedelta(microseconds=1) * (1_000 if nanos else 1)
            fresh = (
                f"{epoch(event, fields[0].type, nanos)} >= "
                f"{epoch(f'e.{ts}', entity_ts_type, nanos)} - {span}"
            )
        dtypes = {f.name: f.dtype for f in view.schema}
        for j, (feature, name) in enumerate(zip(request.selected, names, strict=True)):
            value = f"{alias}.{quote(f'f{j}')}"
            target = DUCKDB_TYPE[dtypes[feature]]
            if scan.columns[feature] != target:
                value = f"CAST({value} AS {target})"
            if fresh is not None:
                value = f"CASE WHEN {fresh} THEN {value} END"
            select.append(f"{value} AS {quote(name)}")
    return (
        f"SELECT {', '.join(select)} FROM (SELECT *, {', '.join(entity_keys)} "
        f"FROM {quote(ENTITIES)}) e " + " ".join(joins) + f" ORDER BY e.{ROW}"
    )
