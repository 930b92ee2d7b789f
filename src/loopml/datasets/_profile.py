"""Schema, row count and a per-column profile of tabular data, read in one streamed pass.

Tabular means a CSV file, a Parquet file, or a folder whose data files are all
Parquet (hidden and ``_``-prefixed files such as Spark's ``_SUCCESS`` are
ignored). The schema and row count come from ``loopml.data``'s table summary
(the same Arrow type names ``loopml data diff`` shows); the profile streams
record batches, so memory stays bounded by a batch and the distinct-value sets:

- every column: present values (``count``) and missing ones (``nulls``; NaN
  counts as missing, as in pandas);
- numbers: min, max, mean (booleans: the share of true values);
- dates and times: min and max, as ISO text;
- strings: the number of distinct values, tracked up to ``MAX_DISTINCT``.

Data that turns out not to be a readable table is not an error: a dataset
version may hold any bytes. ``table_facts`` then returns None and the reason.
pyarrow is imported on first use.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.data._tabular import TableFormat, describe_table, table_format
from loopml.store.dataset_records import ColumnProfile

MAX_DISTINCT = 1_000_000
MAX_PROFILED_COLUMNS = 1_000
BATCH_ROWS = 64 * 1024


@dataclass(frozen=True, slots=True)
class TableFacts:
    """What registration records about a tabular dataset version."""

    schema: dict[str, str]
    rows: int
    profile: tuple[ColumnProfile, ...]


def tabular_files(path: Path) -> tuple[TableFormat, list[Path]] | None:
    """The format and data files of ``path`` if it is tabular, else None."""
    if path.is_file():
        fmt = table_format(path.name)
        return (fmt, [path]) if fmt is not None else None
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if files and all(table_format(p.name) == "parquet" for p in files):
        return "parquet", files
    return None


def table_facts(path: Path) -> tuple[TableFacts | None, str | None]:
    """Schema, rows and profile of ``path`` when it is tabular: (facts, None) or (None, why)."""
    found = tabular_files(path)
    if found is None:
        return None, None
    fmt, files = found
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - the test environment has pyarrow
        return None, "profiling tables needs pyarrow: pip install 'loopml[serve]'"
    try:
        summaries = [describe_table(file, fmt) for file in files]
        schema = dict(summaries[0].columns)
        for file, summary in zip(files[1:], summaries[1:], strict=True):
            if dict(summary.columns) != schema:
                return None, (
                    f"{file.relative_to(path)} has other columns than {files[0].relative_to(path)}"
                )
        profile = _profile(_batches(fmt, files, schema), schema) if schema else ()
    except InvalidArgument as exc:
        return None, exc.message
    except (pa.ArrowException, OSError, ValueError, KeyError) as exc:
        return None, f"{exc.__class__.__name__}: {exc}"
    return TableFacts(schema, sum(s.rows for s in summaries), profile), None


def _batches(fmt: TableFormat, files: Sequence[Path], schema: dict[str, str]) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet

    if fmt == "parquet":
        for file in files:
            yield from pa.parquet.ParquetFile(file).iter_batches(batch_size=BATCH_ROWS)
        return
    # The summary's types hold for the whole file; pinning them keeps a later block from
    # contradicting what Arrow guessed from the first one.
    types = {}
    for name, alias in schema.items():
        with contextlib.suppress(ValueError, KeyError):
            types[name] = pa.type_for_alias(alias)
    for file in files:
        yield from pa.csv.open_csv(
            str(file), convert_options=pa.csv.ConvertOptions(column_types=types)
        )


def _profile(batches: Iterator[Any], schema: dict[str, str]) -> tuple[ColumnProfile, ...]:
    names = list(schema)[:MAX_PROFILED_COLUMNS]
    columns = {name: _Column(name, schema[name]) for name in names}
    for batch in batches:
        for name, column in columns.items():
            column.add(batch.column(name))
    return tuple(column.result() for column in columns.values())


class _Column:
    """Running statistics of one column across record batches."""

    def __init__(self, name: str, type_name: str) -> None:
        self.name = name
        self.type_name = type_name
        self.count = 0
        self.nulls = 0
        self.low: Any = None
        self.high: Any = None
        self.total = 0.0
        self.distinct: Any = None  # an Arrow array of the distinct values seen so far
        self.too_many = False

    def add(self, values: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        kind = values.type
        missing = values.null_count
        if pa.types.is_floating(kind):
            nan = pc.sum(pc.is_nan(values)).as_py() or 0
            if nan:
                values = pc.filter(values, pc.invert(pc.is_nan(values)))
                missing += nan
        self.nulls += missing
        present = len(values) - values.null_count
        self.count += present
        if present == 0:
            return
        if pa.types.is_boolean(kind):
            self.total += pc.sum(values.cast(pa.int64())).as_py() or 0
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            if pa.types.is_decimal(kind):
                values = values.cast(pa.float64())
            self._extremes(pc.min_max(values))
            self.total += pc.sum(values.cast(pa.float64())).as_py() or 0.0
        elif pa.types.is_temporal(kind):
            self._extremes(pc.min_max(values))
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            self._count_distinct(values)

    def _extremes(self, found: Any) -> None:
        low, high = found["min"].as_py(), found["max"].as_py()
        if low is not None and (self.low is None or low < self.low):
            self.low = low
        if high is not None and (self.high is None or high > self.high):
            self.high = high

    def _count_distinct(self, values: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.too_many:
            return
        seen = pc.unique(values.drop_null())
        if self.distinct is not None:
            seen = pc.unique(pa.concat_arrays([self.distinct, seen]))
        if len(seen) > MAX_DISTINCT:
            self.too_many, self.distinct = True, None
        else:
            self.distinct = seen

    def result(self) -> ColumnProfile:
        is_string = self.type_name in ("string", "large_string")
        mean = self.total / self.count if self.count and _averaged(self.type_name) else None
        return ColumnProfile(
            name=self.name,
            type=self.type_name,
            count=self.count,
            nulls=self.nulls,
            min=_plain(self.low),
            max=_plain(self.high),
            mean=mean if mean is None or math.isfinite(mean) else None,
            distinct=(0 if self.distinct is None else len(self.distinct))
            if is_string and not self.too_many
            else None,
        )


def _averaged(type_name: str) -> bool:
    return type_name == "bool" or type_name.startswith(
        ("int", "uint", "float", "halffloat", "double", "decimal")
    )


def _plain(value: Any) -> int | float | str | None:
    """A JSON-safe statistic: non-finite floats become None, dates and times ISO text."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat is not None else str(value)
