"""Materialisation: the latest feature values per entity key, loaded into the online store.

``materialize`` reads each view's rows with event times in ``[start, end)``,
keeps per key the row with the greatest (event time, created time, source
position), the same order the offline join uses, and writes those rows
through the ``OnlineStore``, which keeps a stored row when it is newer. Each
load is recorded, so ``materialize_incremental`` continues from where the
last load of the view ended: re-running one, or running them out of order,
never replaces a newer value with an older one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.features._definitions import FeatureView
from loopml.features._duck import DUCKDB_TYPE, cast, connect, literal, quote, struct, to_arrow
from loopml.features._online import OnlineStore
from loopml.features._sources import SourceScan, rank_fields, scan_source

if TYPE_CHECKING:
    import pyarrow as pa

    from loopml.tracking import Client

EVENT_MS = "__loopml_event_ms"
"""``latest_rows`` column: the row's event time, epoch ms."""
CREATED_MS = "__loopml_created_ms"
"""``latest_rows`` column: the row's created time, epoch ms (null without a created column)."""
_EVENT_MS, _CREATED_MS = EVENT_MS, CREATED_MS
_LATEST = "__loopml_latest"


class MaterializationLog(Protocol):
    """Where loads are recorded and views found: the registry (``BaseFeatureRegistry``)."""

    def record_materialization(self, view: str, start_ms: int, end_ms: int, rows: int) -> Any: ...

    def last_materialized(self, view: str) -> int | None: ...

    def view(self, name: str) -> FeatureView: ...

    def list(self, kind: str | None = None) -> Sequence[Any]: ...


def registered_views(log: MaterializationLog, names: Sequence[str] | None) -> list[FeatureView]:
    """The named feature views, or every registered one when ``names`` is None."""
    if names is None:
        names = [record.name for record in log.list("feature_view")]
    return [log.view(name) for name in names]


@dataclass(frozen=True, slots=True)
class Materialized:
    """One view's load: its window ``[start_ms, end_ms)`` and the keys written."""

    view: str
    start_ms: int
    end_ms: int
    rows: int


def to_ms(value: datetime | int, what: str) -> int:
    """Epoch milliseconds of a datetime (naive means UTC) or of an int taken as ms."""
    if isinstance(value, bool) or not isinstance(value, datetime | int):
        raise InvalidArgument(f"{what} must be a datetime, not {value!r}.")
    if isinstance(value, int):
        return value
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def materialize(
    views: Sequence[FeatureView],
    start: datetime | int | None,
    end: datetime | int | None,
    *,
    online: OnlineStore,
    log: MaterializationLog,
    client_factory: Callable[[], Client] | None = None,
) -> list[Materialized]:
    """Load each view's latest value per key among rows in ``[start, end)``; record the loads.

    ``start`` None reads from the earliest row (the load is then recorded as
    starting at the earliest event time it loaded); ``end`` None means now.
    InvalidArgument when ``start`` is not before ``end``.
    """
    end_ms = to_ms(end, "end") if end is not None else now_ms()
    start_ms = None if start is None else to_ms(start, "start")
    if start_ms is not None and start_ms >= end_ms:
        raise InvalidArgument(
            f"Materialisation window is empty: start {_show(start_ms)} is not before end "
            f"{_show(end_ms)}."
        )
    return [_load(view, start_ms, end_ms, online, log, client_factory) for view in views]


def materialize_incremental(
    views: Sequence[FeatureView],
    end: datetime | int | None,
    *,
    online: OnlineStore,
    log: MaterializationLog,
    client_factory: Callable[[], Client] | None = None,
) -> list[Materialized]:
    """Load each view from where its last recorded load ended up to ``end`` (None: now).

    A view never loaded starts at ``end - ttl`` (older values would be stale
    anyway), or at its earliest row when it has no TTL. A view already loaded
    up to ``end`` or later is skipped.
    """
    end_ms = to_ms(end, "end") if end is not None else now_ms()
    done: list[Materialized] = []
    for view in views:
        start_ms = log.last_materialized(view.name)
        if start_ms is None and view.ttl is not None:
            start_ms = end_ms - int(view.ttl / timedelta(milliseconds=1))
        if start_ms is not None and start_ms >= end_ms:
            continue
        done.append(_load(view, start_ms, end_ms, online, log, client_factory))
    return done


def latest_rows(
    view: FeatureView,
    start_ms: int | None,
    end_ms: int,
    *,
    client_factory: Callable[[], Client] | None = None,
) -> pa.Table:
    """Per key, the view's latest row with an event time in ``[start_ms, end_ms)``.

    Columns: the join keys, the features (as declared), ``EVENT_MS`` and
    ``CREATED_MS``. What materialisation loads and what a consistency check
    expects online.
    """
    conn = connect()
    try:
        scan = scan_source(conn, view, "m", client_factory=client_factory)
        return to_arrow(conn.sql(_latest_sql(scan, start_ms, end_ms)))
    finally:
        conn.close()


def _load(
    view: FeatureView,
    start_ms: int | None,
    end_ms: int,
    online: OnlineStore,
    log: MaterializationLog,
    client_factory: Callable[[], Client] | None,
) -> Materialized:
    latest = latest_rows(view, start_ms, end_ms, client_factory=client_factory)
    events = latest.column(EVENT_MS).to_pylist()
    created = latest.column(CREATED_MS).to_pylist()
    keys = list(zip(*(latest.column(k).to_pylist() for k in view.join_keys), strict=True))
    values = latest.select(list(view.features))
    if keys:
        online.write(view.name, keys, values, events, created)
    first = start_ms if start_ms is not None else min(events, default=end_ms)
    log.record_materialization(view.name, first, end_ms, len(keys))
    return Materialized(view.name, first, end_ms, len(keys))


_EXACT_MS = frozenset({"TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS"})


def _window(column: str, column_type: str, start_ms: int | None, end_ms: int) -> list[str]:
    """``start <= column < end`` as SQL, exact to the millisecond.

    The bounds are literals of the column's own type, so the (large) column
    is not cast, when that type holds milliseconds exactly; a coarser column
    (seconds, dates) is compared as TIMESTAMP, since casting a bound to it
    would round.
    """
    target = column_type if column_type in _EXACT_MS else "TIMESTAMP"
    value = cast(column, column_type, target)

    def bound(ms: int) -> str:
        instant = datetime.fromtimestamp(ms / 1000, UTC)
        text = instant.isoformat() if "ZONE" in target else instant.replace(tzinfo=None).isoformat()
        return f"CAST({literal(text)} AS {target})"

    where = [f"{column} IS NOT NULL", f"{value} < {bound(end_ms)}"]
    if start_ms is not None:
        where.append(f"{value} >= {bound(start_ms)}")
    return where


def _latest_sql(scan: SourceScan, start_ms: int | None, end_ms: int) -> str:
    """Per key, the greatest row by the feature store's ranking (one hash aggregate)."""
    view, source = scan.view, scan.view.source
    event = quote(source.timestamp_field)
    where = _window(event, scan.columns[source.timestamp_field], start_ms, end_ms)
    payload = {f"f{i}": quote(name) for i, name in enumerate(view.features)}
    payload["e"] = event
    if source.created_timestamp_column:
        payload["c"] = quote(source.created_timestamp_column)
    rank = struct({f.name: f.sql for f in rank_fields(scan)})
    keys = [quote(k) for k in view.join_keys]
    dtypes = {f.name: f.dtype for f in view.schema}

    def field(name: str) -> str:
        return f"struct_extract({_LATEST}, {literal(name)})"

    def epoch_ms(name: str) -> str:
        return f"epoch_ms(CAST({field(name)} AS TIMESTAMP WITH TIME ZONE))"

    features = [
        f"CAST({field(f'f{i}')} AS {DUCKDB_TYPE[dtypes[name]]}) AS {quote(name)}"
        for i, name in enumerate(view.features)
    ]
    created = epoch_ms("c") if source.created_timestamp_column else "NULL::BIGINT"
    return (
        f"SELECT {', '.join(keys + features)}, {epoch_ms('e')} AS {EVENT_MS}, "
        f"{created} AS {CREATED_MS} FROM (SELECT {', '.join(keys)}, "
        f"arg_max({struct(payload)}, {rank}) AS {_LATEST} FROM {scan.relation} "
        f"WHERE {' AND '.join(where)} GROUP BY {', '.join(keys)})"
    )


def _show(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
