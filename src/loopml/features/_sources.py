"""A feature view's source, opened in DuckDB: what to scan, its row order and its digest.

Offline joins and materialisation read feature rows the same way: a Parquet
file or folder and a CSV file are scanned by DuckDB itself (so only the
columns a query names are read from disk), while a registered dataset
version and a PostgreSQL query are read once into an Arrow table that DuckDB
scans in place. Either way the source's columns are checked against the view
before any join, so a source that no longer matches its view is a clear
error naming the column, not a wrong or empty result.

Every scan also says how to order its rows as they are in the source (file,
then row within the file), which breaks ties between rows with the same
event and created timestamps, and carries a digest of the content read, so
a training set can say exactly which data it was built from.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import blake3

from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.core.hashing import hash_bytes, hash_chunks
from loopml.features._definitions import DatasetSource, FeatureView, FileSource, SqlSource
from loopml.features._duck import (
    NULL_TYPE,
    cast,
    comparable,
    literal,
    positions,
    quote,
    to_arrow,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from loopml.tracking import Client

ROW_ORDER = "__loopml_row_order"
"""The column a source read into Arrow carries its row positions in."""

_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})
NUMERIC_TYPES = _INTEGER_TYPES | _FLOAT_TYPES
_TIME_TYPES = frozenset(
    {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"}
    | {"DATE"}
)
_STRING_TYPES = frozenset({"VARCHAR"})
_ACCEPTED: dict[str, frozenset[str]] = {
    "int32": _INTEGER_TYPES,
    "int64": _INTEGER_TYPES,
    "float32": _FLOAT_TYPES | _INTEGER_TYPES,
    "float64": _FLOAT_TYPES | _INTEGER_TYPES,  # and DECIMAL(p, s), see check_columns
    "bool": frozenset({"BOOLEAN"}),
    "string": _STRING_TYPES,
    "bytes": frozenset({"BLOB"}),
    "timestamp": _TIME_TYPES,
}


FileStatus = tuple[int, int, int, int, int]
"""A file's device, inode, size, modification and change times (ns): any write changes it."""


def file_status(path: Path) -> FileStatus | None:
    """``path``'s ``FileStatus``, or None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class SourceScan:
    """A view's source as DuckDB sees it in one connection.

    ``relation`` is a FROM item (a table function call or a registered table),
    ``order`` an SQL expression over it giving each row's position in the
    source, ``columns`` its column names and DuckDB types. ``digest`` resolves
    to the BLAKE3 digest of the content read (computed beside the query).
    ``files`` holds each file DuckDB reads at query time, with its status
    from before it was hashed (none for a source read into memory).
    """

    view: FeatureView
    relation: str
    order: str
    columns: dict[str, str]
    digest: Future[str]
    files: tuple[tuple[Path, FileStatus | None], ...] = ()

    def unchanged(self) -> bool:
        """Whether no file was replaced or rewritten since it was hashed.

        A query that used what is known of the digest's content (its tie
        verdict) is only right if DuckDB read that same content.
        """
        return all(file_status(path) == status for path, status in self.files)


@dataclass(frozen=True, slots=True)
class RankField:
    """One field of the struct that orders a source's rows: its SQL and its DuckDB type."""

    name: str
    sql: str
    type: str


def rank_fields(scan: SourceScan) -> list[RankField]:
    """The struct fields ranking a source's rows: event time, created time, row position.

    Comparing these structs gives the order the whole feature store uses for
    "latest": a later event wins; on a tie a later created time (a missing one
    counts as earliest); then the row further down the source. A struct
    comparison is one sort key, so DuckDB settles ties inside the join or the
    aggregate instead of in a separate deduplication pass.
    """
    source = scan.view.source
    event_type = comparable(scan.columns[source.timestamp_field])
    fields = [
        RankField(
            "t",
            cast(quote(source.timestamp_field), scan.columns[source.timestamp_field], event_type),
            event_type,
        )
    ]
    if source.created_timestamp_column:
        actual = scan.columns[source.created_timestamp_column]
        created_type = comparable(actual)
        created = cast(quote(source.created_timestamp_column), actual, created_type)
        fields.append(
            RankField("c", f"coalesce({created}, '-infinity'::{created_type})", created_type)
        )
    fields.append(RankField("r", f"({scan.order})::BIGINT", "BIGINT"))
    return fields


_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loopml-source-digest")


def scan_source(
    conn: duckdb.DuckDBPyConnection,
    view: FeatureView,
    alias: str,
    *,
    client_factory: Callable[[], Client] | None = None,
) -> SourceScan:
    """Open ``view``'s source in ``conn`` (tables it registers are named after ``alias``).

    Checks the source's columns against the view: InvalidArgument naming a
    missing column or one of the wrong type; NotFound for a missing file.
    ``client_factory`` gives the tracking client a dataset source is read with.
    """
    source = view.source
    if isinstance(source, FileSource):
        scan = _file_scan(conn, view, source, alias)
    elif isinstance(source, DatasetSource):
        scan = _dataset_scan(conn, view, source, alias, client_factory)
    else:
        scan = _sql_scan(conn, view, source, alias)
    check_columns(view, scan.columns)
    return scan


def _describe(conn: duckdb.DuckDBPyConnection, relation: str, what: str) -> dict[str, str]:
    import duckdb

    try:
        rows = conn.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise InvalidArgument(f"Cannot read {what}: {exc}") from exc
    return {str(row[0]): str(row[1]) for row in rows}


def _file_scan(
    conn: duckdb.DuckDBPyConnection, view: FeatureView, source: FileSource, alias: str
) -> SourceScan:
    path = Path(os.path.abspath(os.path.expanduser(source.path)))
    what = f"the source of feature view {view.name!r} ({source.path})"
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise NotFound(f"No Parquet files under {path}, {what}.")
        names = ", ".join(literal(str(p)) for p in files)
        relation = f"read_parquet([{names}], file_row_number = true, union_by_name = true)"
        order = "(file_index::BIGINT << 40) + file_row_number"
    elif path.is_file():
        files = [path]
        if path.suffix.lower() in {".csv", ".tsv", ".txt"} or path.name.lower().endswith(".csv.gz"):
            status = ((path, file_status(path)),)  # before it is read and hashed
            table = _read_csv(conn, path, what)
            return _arrow_scan(
                conn, view, table, f"__loopml_src_{alias}", _submit_digest(files, path), status
            )
        relation = f"read_parquet({literal(str(path))}, file_row_number = true)"
        order = "file_row_number"
    else:
        raise NotFound(f"No file or folder at {path}, {what}.")
    columns = _describe(conn, relation, what)
    columns.pop("file_row_number", None)
    columns.pop("file_index", None)
    statuses = tuple((p, file_status(p)) for p in files)  # before hashing starts
    return SourceScan(view, relation, order, columns, _submit_digest(files, path), statuses)


def _read_csv(conn: duckdb.DuckDBPyConnection, path: Path, what: str) -> pa.Table:
    import duckdb

    try:
        return to_arrow(conn.sql(f"SELECT * FROM read_csv({literal(str(path))})"))
    except duckdb.Error as exc:
        raise InvalidArgument(f"Cannot read {what}: {exc}") from exc


def _arrow_scan(
    conn: duckdb.DuckDBPyConnection,
    view: FeatureView,
    table: pa.Table,
    name: str,
    digest: Future[str],
    files: tuple[tuple[Path, FileStatus | None], ...] = (),
) -> SourceScan:
    if ROW_ORDER in table.column_names:
        table = table.drop_columns([ROW_ORDER])
    table = table.append_column(ROW_ORDER, positions(table.num_rows))
    conn.register(name, table)
    columns = _describe(conn, quote(name), f"the source of feature view {view.name!r}")
    columns.pop(ROW_ORDER, None)
    return SourceScan(view, quote(name), quote(ROW_ORDER), columns, digest, files)


def _dataset_scan(
    conn: duckdb.DuckDBPyConnection,
    view: FeatureView,
    source: DatasetSource,
    alias: str,
    client_factory: Callable[[], Client] | None,
) -> SourceScan:
    import pyarrow as pa

    from loopml.datasets import Datasets

    datasets = Datasets(client_factory() if client_factory is not None else None)
    version = datasets.get(source.dataset)
    frame = datasets.read_frame(version)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    done: Future[str] = Future()
    done.set_result(version.content_id)
    return _arrow_scan(conn, view, table, f"__loopml_src_{alias}", done)


def _sql_scan(
    conn: duckdb.DuckDBPyConnection, view: FeatureView, source: SqlSource, alias: str
) -> SourceScan:
    table = read_postgres(source.uri, source.query, view.name)
    done: Future[str] = Future()
    done.set_result(_table_digest(table))
    return _arrow_scan(conn, view, table, f"__loopml_src_{alias}", done)


def read_postgres(uri: str, query: str, view: str) -> pa.Table:
    """The rows of ``query`` on the PostgreSQL database at ``uri``, as an Arrow table."""
    import psycopg
    import pyarrow as pa

    scheme, sep, rest = uri.partition("://")
    if not sep or scheme.split("+")[0] not in {"postgresql", "postgres"}:
        raise InvalidArgument(
            f"Feature view {view!r}: a SQL source needs a postgresql:// URI, got {scheme!r}."
        )
    try:
        with psycopg.connect(f"postgresql://{rest}", connect_timeout=10) as pg:
            cursor = pg.execute(query)  # the definition's own query
            if cursor.description is None:
                raise InvalidArgument(f"Feature view {view!r}: the SQL source returns no rows.")
            names = [col.name for col in cursor.description]
            rows = cursor.fetchall()
    except psycopg.OperationalError as exc:
        raise StorageError(f"Feature view {view!r}: cannot reach PostgreSQL: {exc}") from exc
    except psycopg.Error as exc:
        raise InvalidArgument(f"Feature view {view!r}: the SQL source failed: {exc}") from exc
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    try:
        arrays = [pa.array(list(values)) for values in columns]
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidArgument(f"Feature view {view!r}: unusable SQL source values: {exc}") from exc
    return pa.Table.from_arrays(arrays, names=names)


def check_columns(view: FeatureView, columns: dict[str, str]) -> None:
    """InvalidArgument unless the source has every column the view needs, of a usable type."""
    source = view.source
    where = f"The source of feature view {view.name!r}"
    needed: list[tuple[str, frozenset[str] | None, str]] = [
        (key, None, "join key") for key in view.join_keys
    ]
    needed.append((source.timestamp_field, _TIME_TYPES, "event timestamp"))
    if source.created_timestamp_column:
        needed.append((source.created_timestamp_column, _TIME_TYPES, "created timestamp"))
    needed.extend((f.name, _ACCEPTED[f.dtype], f"{f.dtype} feature") for f in view.schema)
    for name, accepted, role in needed:
        if name not in columns:
            raise InvalidArgument(
                f"{where} has no column {name!r} (its {role}); it has {sorted(columns)}. "
                "Fix the source or apply the changed view."
            )
        actual = columns[name]
        kind = "DOUBLE" if actual.startswith("DECIMAL") else actual  # numeric(p, s) reads as float
        if accepted is not None and kind not in accepted and actual != NULL_TYPE:
            raise InvalidArgument(
                f"{where}: column {name!r} ({role}) has type {actual}, which does not fit. "
                "Fix the source or apply the changed view."
            )


def _submit_digest(files: list[Path], root: Path) -> Future[str]:
    return _HASHER.submit(_files_digest, files, root)


def _files_digest(files: list[Path], root: Path) -> str:
    """One file's BLAKE3, or for a folder the digest of its (relative path, digest) list."""
    try:
        digests = []
        for path in files:
            hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
            hasher.update_mmap(str(path))
            digests.append(hasher.hexdigest())
    except OSError as exc:
        raise StorageError(f"Cannot read {root}: {exc.strerror or exc}") from exc
    if len(files) == 1 and files[0] == root:
        return digests[0]
    listing = (
        f"{p.relative_to(root).as_posix()}\0{d}\n".encode()
        for p, d in zip(files, digests, strict=True)
    )
    return hash_chunks(listing)


def _table_digest(table: pa.Table) -> str:
    """The digest of a table's Arrow IPC form (its schema and values)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hash_bytes(memoryview(sink.getvalue()))
