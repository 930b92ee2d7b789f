"""DuckDB plumbing shared by offline joins and materialisation.

Each join or load runs on its own in-memory connection whose session time
zone is UTC, so naive timestamps mean UTC wherever DuckDB reads them; SQL is
built from quoted identifiers and literals only (definitions never reach a
query as raw text, except a SQL source's own query, which runs on PostgreSQL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

DUCKDB_TYPE = {
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "bytes": "BLOB",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
}
"""The DuckDB type each declared feature type comes back as."""

NULL_TYPE = '"NULL"'
"""DuckDB's name for the type of a column with no values (an empty query result)."""


def comparable(duck_type: str) -> str:
    """The type a timestamp column is compared as: DATE (and all-null) become TIMESTAMP."""
    return "TIMESTAMP" if duck_type in {"DATE", NULL_TYPE} else duck_type


def cast(column: str, actual: str, target: str) -> str:
    """``column`` as ``target``, with no cast when it is that type already.

    With the connection's TimeZone at UTC, a naive timestamp cast to an aware
    one (and back) is read as UTC.
    """
    return column if actual == target else f"CAST({column} AS {target})"


_PRECISION = {
    "DATE": 0,
    "TIMESTAMP_S": 1,
    "TIMESTAMP_MS": 2,
    "TIMESTAMP": 3,
    "TIMESTAMP WITH TIME ZONE": 3,
    "TIMESTAMP_NS": 4,
}
_MICROS_PER_UNIT = {"TIMESTAMP_S": 1_000_000, "TIMESTAMP_MS": 1_000}


def _floor_div(number: str, divisor: int) -> str:
    # DuckDB's integer division truncates toward zero; times before 1970 must round down too.
    return f"(({number}) // {divisor} - CASE WHEN ({number}) % {divisor} < 0 THEN 1 ELSE 0 END)"


def floor_cast(column: str, actual: str, target: str) -> str:
    """Timestamp ``column`` as timestamp type ``target``, rounded down when that is coarser.

    DuckDB's own casts to a coarser unit round to the nearest (09:59:59.9999996
    becomes 10:00:00.000000), which would let an entity row see a feature row
    from its future; flooring keeps ``source <= entity`` exact.
    """
    if actual == target:
        return column
    if _PRECISION.get(actual, 3) <= _PRECISION.get(target, 3):
        return f"CAST({column} AS {target})"  # to a finer (or the same) unit: exact
    if actual == "TIMESTAMP_NS":
        micros = _floor_div(f"epoch_ns({column})", 1_000)
    else:
        micros = f"epoch_us({column})"
    step = _MICROS_PER_UNIT.get(target, 1)
    if step != 1:
        micros = f"{_floor_div(micros, step)} * {step}"
    return f"CAST(make_timestamp({micros}) AS {target})"


def epoch(column: str, actual: str, finest: bool) -> str:
    """An exact integer instant of timestamp ``column``: nanoseconds when ``finest``, else µs."""
    value = f"CAST({column} AS TIMESTAMP)" if actual == "DATE" else column
    return f"epoch_ns({value})" if finest else f"epoch_us({value})"


def struct(fields: dict[str, str]) -> str:
    """A DuckDB struct literal of named SQL expressions."""
    return "{" + ", ".join(f"{literal(name)}: {sql}" for name, sql in fields.items()) + "}"


def quote(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB connection whose naive timestamps mean UTC."""
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InvalidArgument(
            "The offline feature store needs DuckDB: pip install 'loopml[features]'."
        ) from exc
    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def positions(count: int) -> pa.Array:
    """The row positions 0..count-1 as an int64 Arrow array."""
    import numpy as np
    import pyarrow as pa

    return pa.array(np.arange(count, dtype=np.int64))


def to_arrow(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """A relation's rows as an Arrow table (whichever name this DuckDB gives the call)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()
