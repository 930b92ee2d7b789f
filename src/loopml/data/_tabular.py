"""Table summaries of CSV and Parquet files: columns with Arrow types, and row counts.

``diff`` uses them to say how a tabular file changed (columns added, removed
or retyped; rows before and after) and the datasets registry records them
with each version. Neither ever holds a whole file in memory:

- Parquet: only the footer metadata is parsed. From a seekable source
  pyarrow reads just the file's end; a forward-only stream (an object store
  stream, which verifies the content hash as it reaches its end) is read
  through once, keeping only its last bytes.
- CSV: pyarrow's streaming reader counts rows one block at a time. Arrow
  infers column types from the first block; when a later block holds a value
  that does not fit (``1.5`` in a column that looked like integers), the file
  is read again with that column widened (null -> int64 -> double -> string
  -> binary), so the reported types describe the whole file. Re-reading needs
  a path, a seekable stream, or an opener (a callable returning a new stream).

pyarrow is imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

TableFormat = Literal["csv", "parquet"]
TableSource = Path | BinaryIO | Callable[[], BinaryIO]
"""A local file, a binary stream, or a callable that opens a new stream each time."""

_SUFFIXES: dict[str, TableFormat] = {".csv": "csv", ".parquet": "parquet"}
CSV_BLOCK_SIZE = 1024 * 1024
PARQUET_TAIL = 1024 * 1024
"""Bytes kept from the end of a forward-only Parquet stream (footers are usually far smaller)."""
MAX_PARQUET_FOOTER = 64 * 1024 * 1024
_PARQUET_FIRST_READ = 64 * 1024
"""pyarrow reads this much of a file's end first, whatever the footer's length."""
_PARQUET_MAGIC = b"PAR1"
_READ_BLOCK = 1024 * 1024
_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): CSV conversion error to ")


@dataclass(frozen=True)
class TableSummary:
    """A table's shape: its format, columns (name -> Arrow type name, in order) and rows."""

    format: TableFormat
    columns: Mapping[str, str]
    rows: int


@dataclass(frozen=True)
class TypeChange:
    """A column whose Arrow type differs between two versions of a table."""

    column: str
    old: str
    new: str


@dataclass(frozen=True)
class TableChange:
    """How a table changed; ``rows_before``/``rows_after`` are None on the side it is absent."""

    columns_added: tuple[str, ...]
    columns_removed: tuple[str, ...]
    types_changed: tuple[TypeChange, ...]
    rows_before: int | None
    rows_after: int | None

    @property
    def schema_changed(self) -> bool:
        """Whether any column was added, removed or retyped."""
        return bool(self.columns_added or self.columns_removed or self.types_changed)


def table_format(path: str) -> TableFormat | None:
    """``"csv"`` or ``"parquet"`` from a file name's suffix (any case), else None."""
    return _SUFFIXES.get(Path(path).suffix.lower())


def compare_tables(old: TableSummary | None, new: TableSummary | None) -> TableChange:
    """The schema and row-count changes from ``old`` to ``new`` (either may be absent)."""
    before = dict(old.columns) if old else {}
    after = dict(new.columns) if new else {}
    return TableChange(
        columns_added=tuple(name for name in after if name not in before) if old else (),
        columns_removed=tuple(name for name in before if name not in after) if new else (),
        types_changed=tuple(
            TypeChange(name, before[name], after[name])
            for name in after
            if name in before and before[name] != after[name]
        ),
        rows_before=old.rows if old else None,
        rows_after=new.rows if new else None,
    )


def describe_table(
    source: TableSource, fmt: TableFormat, *, name: str | None = None
) -> TableSummary:
    """Columns and row count of the CSV or Parquet table at ``source``, in bounded memory.

    ``name`` labels the table in error messages (default: the path, or "the
    table"). InvalidArgument if the content is not a readable table of that
    format; errors raised by the stream itself (NotFound, CorruptObject from
    an object store stream) pass through unchanged.
    """
    label = name or (str(source) if isinstance(source, Path) else "the table")
    if fmt == "parquet":
        return _describe_parquet(_Reopener(source), label)
    if fmt == "csv":
        return _describe_csv(_Reopener(source), label)
    raise InvalidArgument(f"unknown table format {fmt!r}: expected 'csv' or 'parquet'")


class _Reopener:
    """Gives a fresh stream from the start of the source, as often as the source allows."""

    def __init__(self, source: TableSource) -> None:
        self._source = source
        self._start: int | None = None
        self._opened: list[BinaryIO] = []
        if not isinstance(source, Path) and not callable(source):
            self._start = source.tell() if _seekable(source) else None

    @property
    def repeatable(self) -> bool:
        return isinstance(self._source, Path) or callable(self._source) or self._start is not None

    def open(self) -> BinaryIO:
        source = self._source
        if isinstance(source, Path):
            try:
                stream: BinaryIO = open(source, "rb")  # noqa: SIM115 - closed by close()
            except FileNotFoundError:
                raise InvalidArgument(f"no file {source}") from None
            except OSError as exc:
                raise InvalidArgument(f"cannot read {source}: {exc.strerror or exc}") from None
            self._opened.append(stream)
            return stream
        if callable(source):
            stream = source()
            self._opened.append(stream)
            return stream
        if self._opened:
            if self._start is None:
                raise AssertionError("a forward-only stream cannot be read twice")
            source.seek(self._start)
        self._opened.append(source)
        return source

    def close(self) -> None:
        """Close the streams this opened (a caller's own stream is left open)."""
        for stream in self._opened:
            if stream is not self._source:
                stream.close()
        self._opened.clear()


def _arrow() -> Any:
    try:
        import pyarrow
        import pyarrow.csv
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - the test environment has pyarrow
        raise InvalidArgument(
            "Summarising CSV and Parquet tables needs pyarrow: pip install 'loopml[serve]'"
        ) from exc
    return pyarrow


# -- Parquet -----------------------------------------------------------------------


def _describe_parquet(source: _Reopener, label: str) -> TableSummary:
    arrow = _arrow()
    try:
        stream = source.open()
        if not _seekable(stream):
            stream = _tail_file(stream, source, label)
        try:
            parquet = arrow.parquet.ParquetFile(stream)
            metadata = parquet.metadata
            schema = parquet.schema_arrow
        except (arrow.ArrowException, OSError, ValueError) as exc:
            raise InvalidArgument(f"{label} is not a readable Parquet file: {exc}") from None
        return TableSummary("parquet", _columns(schema), int(metadata.num_rows))
    finally:
        source.close()


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError):
        return False


def _tail_file(stream: BinaryIO, source: _Reopener, label: str) -> BinaryIO:
    """A seekable stand-in for a forward-only Parquet stream, holding only its end."""
    size, tail = _read_tail(stream, PARQUET_TAIL)
    if size < 12 or tail[-4:] != _PARQUET_MAGIC:
        raise InvalidArgument(f"{label} is not a Parquet file (no PAR1 footer)")
    needed = int.from_bytes(tail[-8:-4], "little") + 8
    if needed > size or needed > MAX_PARQUET_FOOTER:
        raise InvalidArgument(f"{label} is not a readable Parquet file: bad footer length")
    needed = max(needed, min(size, _PARQUET_FIRST_READ))
    if needed > len(tail):
        if not source.repeatable:
            raise InvalidArgument(
                f"{label} has a Parquet footer of {needed} bytes; pass a path or an "
                "opener so it can be read again"
            )
        size, tail = _read_tail(source.open(), needed)
    return cast(BinaryIO, _TailFile(size, tail))


def _read_tail(stream: BinaryIO, keep: int) -> tuple[int, bytes]:
    """Read ``stream`` to its end; return its size and its last ``keep`` bytes."""
    size = 0
    tail = bytearray()
    while block := stream.read(_READ_BLOCK):
        size += len(block)
        tail += block
        if len(tail) > 2 * keep:
            del tail[:-keep]
    return size, bytes(tail[-keep:])


class _TailFile(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only the last ``len(tail)`` are known."""

    def __init__(self, size: int, tail: bytes) -> None:
        self._size = size
        self._tail = tail
        self._start = size - len(tail)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        if self._pos < self._start:
            raise OSError("the Parquet footer points before the end of the file kept in memory")
        offset = self._pos - self._start
        data = self._tail[offset : offset + len(buffer)]
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


# -- CSV ---------------------------------------------------------------------------


def _describe_csv(source: _Reopener, label: str) -> TableSummary:
    """Stream the CSV, widening a column's type and reading again when a value does not fit."""
    arrow = _arrow()
    forced: dict[str, pa.DataType] = {}
    schema: pa.Schema | None = None  # columns keep their order from one reading to the next
    try:
        while True:
            stream = source.open()
            try:
                reader = arrow.csv.open_csv(
                    stream,
                    read_options=arrow.csv.ReadOptions(block_size=CSV_BLOCK_SIZE),
                    convert_options=arrow.csv.ConvertOptions(column_types=forced),
                )
                schema = reader.schema
                rows = sum(batch.num_rows for batch in reader)
            except arrow.ArrowInvalid as exc:
                if str(exc).startswith("Empty CSV file"):
                    return TableSummary("csv", {}, 0)
                column, wider = _widening(arrow, exc, schema, forced)
                if column is None or wider is None:
                    raise InvalidArgument(f"{label} is not a readable CSV file: {exc}") from None
                if not source.repeatable:
                    raise InvalidArgument(
                        f"{label}: column {column!r} holds values of another type after the "
                        "first block; pass a path or an opener so it can be read again"
                    ) from None
                forced[column] = wider
                continue
            return TableSummary("csv", _columns(schema), rows)
    finally:
        source.close()


def _widening(
    arrow: Any, exc: Exception, schema: pa.Schema | None, forced: Mapping[str, pa.DataType]
) -> tuple[str | None, pa.DataType | None]:
    """The column a conversion error names and the next wider type to try for it."""
    match = _CONVERSION_ERROR.match(str(exc))
    if match is None or schema is None or int(match[1]) >= len(schema):
        return None, None
    field = schema.field(int(match[1]))
    current = forced.get(field.name, field.type)
    types = arrow.types
    if types.is_null(current):
        return field.name, arrow.int64()
    if types.is_integer(current):
        return field.name, arrow.float64()
    if types.is_string(current) or types.is_large_string(current):
        return field.name, arrow.binary()
    if types.is_binary(current):
        return field.name, None
    return field.name, arrow.string()


def _columns(schema: pa.Schema) -> Mapping[str, str]:
    # A plain dict (not a read-only proxy) so the summary serialises as JSON as it is.
    return {field.name: str(field.type) for field in schema}
