"""Prediction-log rows as Parquet: records in, segments out, and back as one table.

A request of several rows becomes several rows sharing its ``request_id``,
numbered by ``row``. Inputs are columns ``input.<col>``; the prediction is
``prediction``. A column whose values Arrow cannot hold as one scalar type (lists,
dicts, mixed types) is stored as JSON text. Request-level fields are built once
per request and repeated with ``take``, and reads are whole-column operations:
no Python loop runs per row when a log is read back.

pyarrow (the ``serve`` extra) is imported on first use, so ``import loopml``
and a tracking server without the prediction log do not need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from loopml.core.errors import InvalidArgument
from loopml.store import LabelColumns, PredictionRecord

if TYPE_CHECKING:
    import pyarrow as pa

INPUT_PREFIX = "input."
# Column name -> Arrow type name, in the order rows are laid out.
FIXED_COLUMNS = (
    ("request_id", "string"),
    ("row", "int32"),
    ("time_ms", "int64"),
    ("deployment", "string"),
    ("model_uri", "string"),
    ("model_version", "string"),
    ("role", "string"),
    ("latency_ms", "double"),
    ("error", "string"),
)
PREDICTION = "prediction"
LABEL = "label"


def arrow() -> Any:
    """The pyarrow module, or a clear error naming the extra that brings it."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - the test environment has pyarrow
        raise InvalidArgument(
            "The prediction log writes Parquet with pyarrow: pip install 'loopml[serve]'."
        ) from exc
    return pyarrow


def _json(value: Any) -> str:
    return orjson.dumps(
        value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str
    ).decode()


def _plain(values: Any) -> list[Any]:
    tolist = getattr(values, "tolist", None)  # NumPy arrays, pandas Series
    if callable(tolist):
        values = tolist()
    return list(values) if isinstance(values, list | tuple) else [values]


def column(values: Sequence[Any]) -> pa.Array:
    """``values`` as one Arrow array, or as JSON texts when they are not one scalar type."""
    pa = arrow()
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        array = None
    if array is not None and not pa.types.is_nested(array.type):
        return array
    return pa.array([None if v is None else _json(v) for v in values], pa.string())


def rows_of(record: PredictionRecord) -> int:
    """How many rows a record becomes: one per output or input row, at least one."""
    n = len(record.outputs)
    for values in record.inputs.values():
        n = max(n, len(values))
    return max(n, 1)


def to_table(records: Sequence[PredictionRecord]) -> pa.Table:
    """The rows of ``records``, request-level fields repeated over each request's rows."""
    pa = arrow()
    import numpy as np

    counts = np.fromiter((rows_of(r) for r in records), dtype=np.int64, count=len(records))
    total = int(counts.sum())
    owner = pa.array(np.repeat(np.arange(len(records)), counts))
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    data: dict[str, Any] = {
        "request_id": pa.array([str(r.request_id) for r in records], pa.string()).take(owner),
        "row": pa.array((np.arange(total) - starts).astype(np.int32)),
        "time_ms": pa.array([int(r.time_ms) for r in records], pa.int64()).take(owner),
        "deployment": pa.array([r.deployment for r in records], pa.string()).take(owner),
        "model_uri": pa.array([str(r.model_uri) for r in records], pa.string()).take(owner),
        "model_version": pa.array([str(r.model_version) for r in records], pa.string()).take(owner),
        "role": pa.array([str(r.role) for r in records], pa.string()).take(owner),
        "latency_ms": pa.array([float(r.latency_ms) for r in records], pa.float64()).take(owner),
        "error": pa.array(
            [None if r.error is None else str(r.error) for r in records], pa.string()
        ).take(owner),
    }
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.inputs))
    for name in names:
        values: list[Any] = []
        for record, n in zip(records, counts.tolist(), strict=True):
            given = record.inputs.get(name)
            got = [] if given is None else _plain(given)
            values.extend(got[:n])
            values.extend([None] * (n - len(got[:n])))
        data[INPUT_PREFIX + str(name)] = column(values)
    predictions: list[Any] = []
    for record, n in zip(records, counts.tolist(), strict=True):
        got = _plain(record.outputs)[:n]
        predictions.extend(got)
        predictions.extend([None] * (n - len(got)))
    data[PREDICTION] = column(predictions)
    return pa.table(data)


def encode(records: Sequence[PredictionRecord]) -> tuple[bytes, int, int, int]:
    """A Parquet segment (zstd) of ``records``: its bytes, min and max time, row count."""
    pa = arrow()
    table = to_table(records)
    times = [int(r.time_ms) for r in records]
    sink = pa.BufferOutputStream()
    pa.parquet.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes(), min(times), max(times), table.num_rows


def decode(data: bytes, what: str = "prediction segment") -> pa.Table:
    """A segment's table; InvalidArgument unless it is Parquet with the log's columns."""
    pa = arrow()
    try:
        table = pa.parquet.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidArgument(f"The {what} is not a readable Parquet file: {exc}") from exc
    for name, type_name in FIXED_COLUMNS:
        if name not in table.column_names:
            raise InvalidArgument(f"The {what} has no column {name!r}.")
        found = table.schema.field(name).type
        if str(found) != type_name and not (type_name == "string" and pa.types.is_null(found)):
            raise InvalidArgument(f"The {what}'s column {name!r} is {found}, not {type_name}.")
    if PREDICTION not in table.column_names:
        raise InvalidArgument(f"The {what} has no column {PREDICTION!r}.")
    return table


def span(table: pa.Table) -> tuple[int, int]:
    """The smallest and largest ``time_ms`` of a non-empty segment."""
    pa = arrow()
    if table.num_rows == 0:
        raise InvalidArgument("The prediction segment has no rows.")
    if table.column("time_ms").null_count:
        raise InvalidArgument("The prediction segment has rows without a time_ms.")
    bounds = pa.compute.min_max(table.column("time_ms"))
    return int(bounds["min"].as_py()), int(bounds["max"].as_py())


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    """One table of many segments; a column whose types disagree becomes text."""
    pa = arrow()
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    types: dict[str, set[str]] = {}
    for table in tables:
        for field in table.schema:
            if not pa.types.is_null(field.type):
                types.setdefault(field.name, set()).add(str(field.type))
    mixed = {name for name, found in types.items() if len(found) > 1}
    fixed = []
    for table in tables:
        for name in mixed & set(table.column_names):
            index = table.column_names.index(name)
            table = table.set_column(index, name, pa.compute.cast(table.column(name), pa.string()))
        fixed.append(table)
    return pa.concat_tables(fixed, promote_options="permissive")


def empty_table() -> pa.Table:
    pa = arrow()
    fields = [pa.field(name, pa.type_for_alias(kind)) for name, kind in FIXED_COLUMNS]
    return pa.schema([*fields, pa.field(PREDICTION, pa.null())]).empty_table()


def in_range(table: pa.Table, since_ms: int | None, until_ms: int | None) -> pa.Table:
    """Rows with ``since_ms <= time_ms < until_ms``, ordered by time (stable)."""
    pc = arrow().compute
    times = table.column("time_ms")
    if since_ms is not None and until_ms is not None:
        table = table.filter(pc.and_(pc.greater_equal(times, since_ms), pc.less(times, until_ms)))
    elif since_ms is not None:
        table = table.filter(pc.greater_equal(times, since_ms))
    elif until_ms is not None:
        table = table.filter(pc.less(times, until_ms))
    return table.take(pc.sort_indices(table, sort_keys=[("time_ms", "ascending")]))


def join_labels(table: pa.Table, labels: LabelColumns) -> pa.Table:
    """``table`` with a ``label`` column: each row's request label, null when none."""
    pa = arrow()
    if not labels.request_ids:
        return table.append_column(LABEL, pa.nulls(table.num_rows))
    decoded = orjson.loads("[" + ",".join(labels.labels_json) + "]")
    values = column(decoded)
    found = pa.compute.index_in(
        table.column("request_id"), value_set=pa.array(labels.request_ids, pa.string())
    )
    return table.append_column(LABEL, values.take(found))
