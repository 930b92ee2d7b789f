"""Table summaries from files and object store streams, in bounded memory, and their diff."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.data import _tabular
from loopml.data._tabular import (
    TableSummary,
    TypeChange,
    compare_tables,
    describe_table,
    table_format,
)
from loopml.objects import ObjectStore, open_object_store

MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    """A store that chunks above 1 MiB, so large tables are read across chunks."""
    return open_object_store(str(tmp_path / "objects"), chunking_threshold=MiB)


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(n: int, fmt: str = "{n},{n}.5,name{n},true\n") -> str:
    return "".join(fmt.format(n=n) for n in range(n))


def test_formats_come_from_the_suffix() -> None:
    assert table_format("a/b/train.CSV") == "csv"
    assert table_format("x.parquet") == "parquet"
    assert table_format("x.csv.gz") is None
    assert table_format("README") is None


def test_csv_columns_types_and_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,score,name,flag\n" + _rows(1000))
    summary = describe_table(path, "csv")
    assert summary == TableSummary(
        format="csv",
        columns={"id": "int64", "score": "double", "name": "string", "flag": "bool"},
        rows=1000,
    )
    assert list(summary.columns) == ["id", "score", "name", "flag"]


def test_csv_row_count_spans_many_blocks(tmp_path: Path, store: ObjectStore) -> None:
    text = "id,score,name,flag\n" + _rows(300_000)
    assert len(text) > 5 * _tabular.CSV_BLOCK_SIZE
    path = _csv(tmp_path, text)
    info = store.put_file(path)
    assert info.chunked
    from_path = describe_table(path, "csv")
    from_store = describe_table(lambda: store.open(info.id), "csv")
    assert from_path == from_store
    assert from_path.rows == 300_000


@pytest.mark.parametrize(
    ("late_value", "expected"),
    [("1.5", "double"), ("hello", "string"), ("", "int64")],
)
def test_a_late_value_of_another_type_widens_the_column(
    tmp_path: Path, store: ObjectStore, late_value: str, expected: str
) -> None:
    # Arrow infers types from the first block only; the late value is blocks away.
    text = "a,b\n" + _rows(200_000, "{n},x\n") + f"{late_value},y\n"
    path = _csv(tmp_path, text)
    object_id = store.put_file(path).id
    for source in (path, lambda: store.open(object_id), io.BytesIO(text.encode())):
        summary = describe_table(source, "csv")
        assert summary.columns == {"a": expected, "b": "string"}
        assert summary.rows == 200_001


def test_an_empty_column_first_then_numbers_is_numeric(tmp_path: Path) -> None:
    text = "a,b\n" + _rows(200_000, ",{n}\n") + "7,1\n"
    assert describe_table(_csv(tmp_path, text), "csv").columns == {"a": "int64", "b": "int64"}


def test_a_forward_only_stream_that_needs_a_second_reading_is_refused(
    store: ObjectStore,
) -> None:
    text = "a\n" + _rows(200_000, "{n}\n") + "oops\n"
    object_id = store.put_bytes(text.encode())
    with store.open(object_id) as stream, pytest.raises(InvalidArgument, match="opener"):
        describe_table(stream, "csv", name="t.csv")
    # Without a late surprise one forward pass is enough.
    fine = store.put_bytes(("a\n" + _rows(10, "{n}\n")).encode())
    with store.open(fine) as stream:
        assert describe_table(stream, "csv").rows == 10


def test_empty_and_header_only_csv(tmp_path: Path) -> None:
    assert describe_table(_csv(tmp_path, ""), "csv") == TableSummary("csv", {}, 0)
    header_only = describe_table(_csv(tmp_path, "a,b\n", "h.csv"), "csv")
    assert header_only == TableSummary("csv", {"a": "null", "b": "null"}, 0)


def test_malformed_csv_is_a_clear_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,b\n1,2\n3\n")
    with pytest.raises(InvalidArgument, match=r"t.csv is not a readable CSV file: .*columns"):
        describe_table(path, "csv")
    with pytest.raises(InvalidArgument, match="no file"):
        describe_table(tmp_path / "missing.csv", "csv")
    with pytest.raises(InvalidArgument, match="unknown table format"):
        describe_table(path, "xlsx")  # type: ignore[arg-type]


def _parquet(path: Path, rows: int = 5000, columns: int = 3) -> Path:
    table = pa.table({f"c{i}": pa.array(range(rows), pa.int32()) for i in range(columns)})
    table = table.append_column("label", pa.array([f"r{n}" for n in range(rows)]))
    pq.write_table(table, path, row_group_size=1000)
    return path


def test_parquet_from_a_path_and_from_a_store_stream(tmp_path: Path, store: ObjectStore) -> None:
    path = _parquet(tmp_path / "t.parquet", rows=300_000)
    expected = TableSummary(
        "parquet", {"c0": "int32", "c1": "int32", "c2": "int32", "label": "string"}, 300_000
    )
    assert describe_table(path, "parquet") == expected
    info = store.put_file(path)
    assert info.chunked
    assert describe_table(lambda: store.open(info.id), "parquet") == expected
    with store.open(info.id) as stream:
        assert describe_table(stream, "parquet") == expected
    with open(path, "rb") as seekable:
        assert describe_table(seekable, "parquet") == expected
        assert not seekable.closed  # the caller's stream is left open


def test_a_footer_larger_than_the_kept_tail_is_read_again(
    tmp_path: Path, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_tabular, "PARQUET_TAIL", 512)
    path = _parquet(tmp_path / "wide.parquet", rows=100, columns=200)
    object_id = store.put_file(path).id
    opened: list[int] = []

    def opener() -> BinaryIO:
        opened.append(1)
        return store.open(object_id)

    summary = describe_table(opener, "parquet")
    assert summary.rows == 100 and len(summary.columns) == 201
    assert len(opened) == 2
    with store.open(object_id) as stream, pytest.raises(InvalidArgument, match="footer"):
        describe_table(stream, "parquet")


@pytest.mark.parametrize("content", [b"", b"PAR1", b"not parquet at all" * 10, b"x" * 20 + b"PAR1"])
def test_not_parquet_is_a_clear_error(tmp_path: Path, store: ObjectStore, content: bytes) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(content)
    with pytest.raises(InvalidArgument, match="Parquet"):
        describe_table(path, "parquet")
    object_id = store.put_bytes(content)
    with pytest.raises(InvalidArgument, match="Parquet"):
        describe_table(lambda: store.open(object_id), "parquet")


def test_damage_in_the_store_surfaces_as_corrupt_object(tmp_path: Path, store: ObjectStore) -> None:
    object_id = store.put_bytes(b"a,b\n1,2\n")
    blob = tmp_path / "objects" / "blobs" / object_id[:2] / object_id[2:]
    blob.write_bytes(b"a,b\n9,9\n")
    opener: Callable[[], BinaryIO] = lambda: store.open(object_id)  # noqa: E731
    with pytest.raises(CorruptObject):
        describe_table(opener, "csv")
    with pytest.raises(CorruptObject):
        describe_table(opener, "parquet")


def test_compare_tables() -> None:
    old = TableSummary("csv", {"id": "int64", "x": "int64", "gone": "string"}, 10)
    new = TableSummary("csv", {"id": "int64", "x": "double", "extra": "bool"}, 12)
    change = compare_tables(old, new)
    assert change.columns_added == ("extra",)
    assert change.columns_removed == ("gone",)
    assert change.types_changed == (TypeChange("x", "int64", "double"),)
    assert (change.rows_before, change.rows_after) == (10, 12)
    assert change.schema_changed
    same = compare_tables(old, old)
    assert not same.schema_changed and same.rows_before == same.rows_after == 10
    added = compare_tables(None, new)
    assert added.columns_added == () and added.rows_before is None and added.rows_after == 12
    removed = compare_tables(old, None)
    assert removed.columns_removed == () and removed.rows_after is None
