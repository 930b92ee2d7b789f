"""The entity frame of a training set: checked, as Arrow, with its timestamps unambiguous.

A point-in-time join is only as right as the entity timestamps it compares,
so they are settled before the join: naive timestamps mean UTC; aware ones
in different zones are converted to UTC; a column mixing aware and naive
values is refused, since no single reading of it is right. Missing join
keys or a missing timestamp column are named in the error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

RESERVED_PREFIX = "__loopml"
"""Columns the join adds start with this; an entity frame may not use it."""


def entity_table(frame: Any, timestamp_column: str, join_keys: Iterable[str]) -> pa.Table:
    """``frame`` (a pandas DataFrame or an Arrow table) as an Arrow table fit for the join.

    InvalidArgument names a missing join key or timestamp column, a timestamp
    column that holds no timestamps, or one mixing aware and naive values.
    """
    import pandas as pd
    import pyarrow as pa

    if isinstance(frame, pd.DataFrame):
        columns = [str(c) for c in frame.columns]
    elif isinstance(frame, pa.Table):
        columns = list(frame.column_names)
    else:
        raise InvalidArgument(
            f"entity_df must be a pandas DataFrame or a pyarrow Table, not {type(frame).__name__}."
        )
    _check_columns(columns, timestamp_column, join_keys)
    if isinstance(frame, pd.DataFrame):
        if frame.columns.duplicated().any():
            raise InvalidArgument("entity_df has duplicated column names.")
        frame = frame.copy(deep=False)
        frame[timestamp_column] = _pandas_timestamps(frame[timestamp_column], timestamp_column)
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InvalidArgument(f"entity_df cannot be converted to Arrow: {exc}") from exc
    else:
        table = frame
    kind = table.schema.field(timestamp_column).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise InvalidArgument(
            f"entity_df column {timestamp_column!r} must hold timestamps, not {kind}."
        )
    return table


def _check_columns(columns: list[str], timestamp_column: str, join_keys: Iterable[str]) -> None:
    reserved = [c for c in columns if c.startswith(RESERVED_PREFIX)]
    if reserved:
        raise InvalidArgument(
            f"entity_df column {reserved[0]!r}: names starting with {RESERVED_PREFIX!r} "
            "are reserved."
        )
    if timestamp_column not in columns:
        raise InvalidArgument(
            f"entity_df has no timestamp column {timestamp_column!r}; it has {columns}. "
            "Pass timestamp_column= to name it."
        )
    missing = [key for key in dict.fromkeys(join_keys) if key not in columns]
    if missing:
        raise InvalidArgument(
            f"entity_df has no join key column {missing[0]!r} (needed by the requested "
            f"features); it has {columns}."
        )


def _pandas_timestamps(column: Any, name: str) -> Any:
    """A datetime64 column for ``column``; aware values in UTC, naive ones as they are."""
    import pandas as pd

    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        column.dtype
    ):
        return column
    values = [v for v in column if v is not None and not (isinstance(v, float) and v != v)]
    values = [v for v in values if v is not pd.NaT]
    if all(isinstance(v, datetime) for v in values):
        aware = {v.tzinfo is not None and v.utcoffset() is not None for v in values}
        if len(aware) > 1:
            raise InvalidArgument(
                f"entity_df column {name!r} mixes time-zone-aware and naive timestamps; "
                "make them all aware (any zone) or all naive (read as UTC)."
            )
        try:
            return pd.to_datetime(column, utc=aware == {True})
        except (ValueError, TypeError) as exc:
            raise InvalidArgument(f"entity_df column {name!r}: {exc}") from exc
    if all(isinstance(v, str) for v in values):
        try:
            return pd.to_datetime(column, format="ISO8601")
        except (ValueError, TypeError) as exc:
            first = str(exc).split(". ")[0] or type(exc).__name__
            raise InvalidArgument(
                f"entity_df column {name!r} holds text that is not ISO 8601 timestamps of one "
                f"kind ({first}); mixed time zones and naive values cannot be compared."
            ) from exc
    raise InvalidArgument(
        f"entity_df column {name!r} must hold timestamps, not {column.dtype} values."
    )
