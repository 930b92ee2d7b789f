"""Tabular facts: what is a table, its schema and rows, and the per-column profile."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets_support import write_csv, write_parquet, write_tree

from loopml.datasets import ColumnProfile
from loopml.datasets._profile import table_facts, tabular_files


def _columns(path: Path) -> dict[str, ColumnProfile]:
    facts, problem = table_facts(path)
    assert problem is None and facts is not None
    return {c.name: c for c in facts.profile}


def test_what_counts_as_a_table(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "a.CSV")
    assert tabular_files(csv) == ("csv", [csv])
    assert tabular_files(write_tree(tmp_path / "t", {"notes.txt": b"x"}) / "notes.txt") is None
    mixed = write_tree(tmp_path / "mixed", {"a.parquet": b"", "b.csv": b""})
    assert tabular_files(mixed) is None  # only a folder of Parquet files is one table
    empty = tmp_path / "empty"
    empty.mkdir()
    assert tabular_files(empty) is None
    parts = write_tree(tmp_path / "parts", {"x/p.parquet": b"", ".hidden": b"", "_meta": b""})
    assert tabular_files(parts) == ("parquet", [parts / "x" / "p.parquet"])


def test_numbers_booleans_strings_and_times(tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / "t.parquet",
        {
            "i": [3, None, -2, 10],
            "f": [1.5, float("nan"), float("inf"), None],
            "b": [True, False, None, True],
            "s": ["x", "y", "x", None],
            "d": [dt.date(2024, 1, 2), dt.date(2023, 5, 1), None, dt.date(2024, 1, 1)],
            "t": [dt.datetime(2024, 1, 1, 12), None, dt.datetime(2020, 2, 2), None],
            "money": [Decimal("1.25"), Decimal("2.75"), None, None],
            "nothing": pa.array([None, None, None, None], type=pa.null()),
        },
    )
    columns = _columns(path)
    i = columns["i"]
    assert (i.type, i.count, i.nulls, i.min, i.max, i.mean) == ("int64", 3, 1, -2, 10, 11 / 3)
    f = columns["f"]
    assert (f.count, f.nulls) == (2, 2)  # NaN is missing, as in pandas
    assert (f.min, f.max, f.mean) == (1.5, None, None)  # infinity is not a JSON number
    b = columns["b"]
    assert (b.count, b.nulls, b.mean, b.distinct) == (3, 1, pytest.approx(2 / 3), None)
    s = columns["s"]
    assert (s.count, s.nulls, s.distinct, s.min, s.mean) == (3, 1, 2, None, None)
    d = columns["d"]
    assert (d.min, d.max, d.mean) == ("2023-05-01", "2024-01-02", None)
    assert (columns["t"].min, columns["t"].max) == ("2020-02-02T00:00:00", "2024-01-01T12:00:00")
    money = columns["money"]
    assert (money.min, money.max, money.mean) == (1.25, 2.75, 2.0)
    assert (columns["nothing"].count, columns["nothing"].nulls) == (0, 4)


def test_statistics_span_every_batch_and_file(tmp_path: Path) -> None:
    rows = 200_000  # several record batches
    table = pa.table({"n": list(range(rows)), "k": [f"key{i % 1000}" for i in range(rows)]})
    (tmp_path / "big").mkdir()
    pq.write_table(table, tmp_path / "big" / "part-1.parquet")
    pq.write_table(pa.table({"n": [-5], "k": ["other"]}), tmp_path / "big" / "part-2.parquet")
    facts, _ = table_facts(tmp_path / "big")
    assert facts is not None and facts.rows == rows + 1
    n, k = facts.profile
    assert (n.min, n.max, n.count) == (-5, rows - 1, rows + 1)
    assert k.distinct == 1001


def test_csv_types_hold_for_the_whole_file(tmp_path: Path) -> None:
    # Arrow guesses int64 from the first block; the summary widens the column to double.
    lines = ["x,label"] + [f"{i},a" for i in range(300_000)] + ["2.5,b"]
    path = write_csv(tmp_path / "wide.csv", "\n".join(lines) + "\n")
    facts, problem = table_facts(path)
    assert problem is None and facts is not None
    assert facts.schema == {"x": "double", "label": "string"} and facts.rows == 300_001
    x = facts.profile[0]
    assert (x.min, x.max) == (0.0, 299_999.0)


def test_unreadable_or_inconsistent_tables_are_not_profiled(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    facts, problem = table_facts(bad)
    assert facts is None and problem and "Parquet" in problem
    folder = tmp_path / "parts"
    write_parquet(folder / "a.parquet", {"x": [1]})
    write_parquet(folder / "b.parquet", {"y": ["z"]})
    facts, problem = table_facts(folder)
    assert facts is None and problem and "other columns" in problem
    assert table_facts(write_tree(tmp_path / "t", {"a.txt": b"x"})) == (None, None)


def test_an_empty_csv_has_no_rows(tmp_path: Path) -> None:
    facts, problem = table_facts(write_csv(tmp_path / "e.csv", ""))
    assert problem is None and facts is not None
    assert (facts.schema, facts.rows, facts.profile) == ({}, 0, ())


def test_distinct_counting_stops_at_its_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopml.datasets import _profile

    monkeypatch.setattr(_profile, "MAX_DISTINCT", 10)
    path = write_parquet(tmp_path / "k.parquet", {"k": [f"v{i}" for i in range(11)]})
    assert _columns(path)["k"].distinct is None
    monkeypatch.setattr(_profile, "MAX_DISTINCT", 11)
    assert _columns(path)["k"].distinct == 11
