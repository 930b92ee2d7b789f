"""Point-in-time joins: checked against a brute-force reference, and their bad inputs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopml.core.errors import InvalidArgument, NotFound
from loopml.features._definitions import Entity, FeatureView, Field, FileSource
from loopml.features._offline import ViewRequest, join_views

CUSTOMER = Entity("customer", ("customer_id",))
BASE = datetime(2024, 1, 1)


def _view(
    path: Path,
    *,
    name: str = "stats",
    ttl: timedelta | None = None,
    created: str | None = "created",
    schema: tuple[Field, ...] = (Field("a", "float64"), Field("b", "int64")),
) -> FeatureView:
    return FeatureView(name, (CUSTOMER,), schema, FileSource(str(path), "ts", created), ttl=ttl)


def _random_case(seed: int, tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """Few keys and few distinct times, so ties on event and created time are common."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    source = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 8, n),
            "ts": [BASE + timedelta(hours=int(h)) for h in rng.integers(0, 12, n)],
            "created": [
                None if rng.random() < 0.2 else BASE + timedelta(minutes=int(m))
                for m in rng.integers(0, 3, n)
            ],
            "a": rng.random(n),
            "b": np.arange(n),
        }
    )
    source["created"] = pd.to_datetime(source["created"])
    path = tmp_path / f"source-{seed}.parquet"
    pq.write_table(pa.Table.from_pandas(source, preserve_index=False), path)
    m = int(rng.integers(1, 200))
    entities = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 10, m),
            "event_timestamp": [
                BASE + timedelta(hours=int(h), minutes=int(mi))
                for h, mi in zip(rng.integers(-1, 14, m), rng.choice([0, 30], m), strict=True)
            ],
            "label": np.arange(m),
        }
    )
    return source, entities, path


def _reference(
    source: pd.DataFrame, entities: pd.DataFrame, ttl: timedelta | None
) -> list[tuple[float | None, int | None]]:
    """For each entity row, by brute force: the greatest (ts, created, position) qualifying row."""
    out: list[tuple[float | None, int | None]] = []
    for key, when in zip(entities["customer_id"], entities["event_timestamp"], strict=True):
        best = None
        for pos, row in enumerate(source.itertuples(index=False)):
            if row.customer_id != key or row.ts > when:
                continue
            if ttl is not None and row.ts < when - ttl:
                continue
            created = row.created if not pd.isna(row.created) else pd.Timestamp.min
            rank = (row.ts, created, pos)
            if best is None or rank > best[0]:
                best = (rank, row.a, row.b)
        out.append((None, None) if best is None else (best[1], best[2]))
    return out


def _got(frame: pd.DataFrame) -> list[tuple[float | None, int | None]]:
    return [
        (None, None) if pd.isna(a) else (float(a), int(b))
        for a, b in zip(frame["a"], frame["b"], strict=True)
    ]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("ttl", [None, timedelta(hours=3)])
def test_matches_brute_force_reference(seed: int, ttl: timedelta | None, tmp_path: Path) -> None:
    source, entities, path = _random_case(seed, tmp_path)
    result = join_views(entities, [ViewRequest(_view(path, ttl=ttl))]).to_pandas()
    assert list(result["label"]) == list(entities["label"])  # every row, in order
    assert list(result["customer_id"]) == list(entities["customer_id"])
    assert _got(result) == _reference(source, entities, ttl)


def test_ttl_expiry_and_rows_without_values(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pd.DataFrame(
        {
            "customer_id": [1, 1],
            "ts": [BASE, BASE + timedelta(hours=5)],
            "created": [BASE, BASE],
            "a": [1.0, 2.0],
            "b": [10, 20],
        }
    ).to_parquet(path)
    entities = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 1],
            "event_timestamp": [
                BASE - timedelta(seconds=1),  # before any row
                BASE + timedelta(hours=1),  # within ttl of row 1
                BASE + timedelta(hours=3),  # row 1 expired, row 2 not yet
                BASE + timedelta(hours=5),  # exactly at row 2
                BASE + timedelta(hours=5),  # unknown key
                BASE + timedelta(hours=1),  # duplicate of row 2 of this frame
            ],
        }
    )
    view = _view(path, ttl=timedelta(hours=2))
    frame = join_views(entities, [ViewRequest(view)]).to_pandas()
    assert frame["a"].iloc[1] == 1.0 and pd.isna(frame["a"].iloc[2])
    assert frame["a"].iloc[3] == 2.0
    assert pd.isna(frame["a"].iloc[0]) and pd.isna(frame["a"].iloc[4])
    assert frame["a"].iloc[5] == 1.0
    assert len(frame) == 6


def test_created_timestamp_breaks_ties_then_source_order(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2],
            "ts": [BASE] * 5,
            "created": [BASE + timedelta(1), BASE + timedelta(3), BASE + timedelta(2), BASE, BASE],
            "a": [1.0, 3.0, 2.0, 5.0, 6.0],
            "b": [1, 3, 2, 5, 6],
        }
    ).to_parquet(path)
    entities = pd.DataFrame({"customer_id": [1, 2], "event_timestamp": [BASE, BASE]})
    frame = join_views(entities, [ViewRequest(_view(path))]).to_pandas()
    assert frame["a"].tolist() == [3.0, 6.0]  # latest created; then the later source row
    no_created = join_views(entities, [ViewRequest(_view(path, created=None))]).to_pandas()
    assert no_created["a"].tolist() == [2.0, 6.0]  # last row in the source wins


def _simple_source(path: Path, ts: list[datetime]) -> None:
    pd.DataFrame(
        {
            "customer_id": [1] * len(ts),
            "ts": ts,
            "created": ts,
            "a": [float(i) for i in range(len(ts))],
            "b": list(range(len(ts))),
        }
    ).to_parquet(path)


def test_aware_and_naive_timestamps_compare_as_utc(tmp_path: Path) -> None:
    path = tmp_path / "aware.parquet"
    _simple_source(
        path, [datetime(2024, 1, 1, 10, tzinfo=UTC), datetime(2024, 1, 1, 12, tzinfo=UTC)]
    )
    view = _view(path)
    naive = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "event_timestamp": [datetime(2024, 1, 1, 11), datetime(2024, 1, 1, 12)],
        }
    )
    assert join_views(naive, [ViewRequest(view)]).to_pandas()["b"].tolist() == [0, 1]
    # 12:30 in UTC+2 is 10:30 UTC: only the 10:00 row qualifies.
    plus_two = pd.DataFrame(
        {
            "customer_id": [1],
            "event_timestamp": [pd.Timestamp("2024-01-01T12:30:00+02:00")],
        }
    )
    assert join_views(plus_two, [ViewRequest(view)]).to_pandas()["b"].tolist() == [0]


def test_mixed_aware_and_naive_entity_timestamps_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _simple_source(path, [BASE])
    entities = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "event_timestamp": pd.Series(
                [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2)], dtype=object
            ),
        }
    )
    with pytest.raises(InvalidArgument, match="mixes time-zone-aware and naive"):
        join_views(entities, [ViewRequest(_view(path))])
    text = pd.DataFrame(
        {"customer_id": [1, 1], "event_timestamp": ["2024-01-01T00:00:00+01:00", "2024-01-02"]}
    )
    with pytest.raises(InvalidArgument, match="event_timestamp"):
        join_views(text, [ViewRequest(_view(path))])


def test_aware_entity_timestamps_in_several_zones_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _simple_source(path, [BASE, BASE + timedelta(hours=2)])
    entities = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "event_timestamp": pd.Series(
                [pd.Timestamp("2024-01-01T03:00:00+02:00"), pd.Timestamp("2024-01-01T01:00:00Z")],
                dtype=object,
            ),
        }
    )
    frame = join_views(entities, [ViewRequest(_view(path))]).to_pandas()
    assert frame["b"].tolist() == [0, 0]


@pytest.mark.parametrize("missing", ["customer_id", "event_timestamp"])
def test_missing_entity_column_is_named(missing: str, tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _simple_source(path, [BASE])
    entities = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]}).drop(columns=missing)
    with pytest.raises(InvalidArgument, match=repr(missing)):
        join_views(entities, [ViewRequest(_view(path))])


def test_source_schema_mismatch_names_the_column(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _simple_source(path, [BASE])
    entities = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]})
    missing = _view(path, schema=(Field("a", "float64"), Field("gone", "int64")))
    with pytest.raises(InvalidArgument, match="no column 'gone'"):
        join_views(entities, [ViewRequest(missing)])
    wrong = _view(path, schema=(Field("a", "string"),))
    with pytest.raises(InvalidArgument, match=r"column 'a'.*DOUBLE"):
        join_views(entities, [ViewRequest(wrong)])
    bad_key = pd.DataFrame({"customer_id": ["1"], "event_timestamp": [BASE]})
    with pytest.raises(InvalidArgument, match="Join key 'customer_id'"):
        join_views(bad_key, [ViewRequest(_view(path))])


def test_missing_source_file_is_not_found(tmp_path: Path) -> None:
    entities = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]})
    with pytest.raises(NotFound, match=r"nothing\.parquet"):
        join_views(entities, [ViewRequest(_view(tmp_path / "nothing.parquet"))])


def test_two_views_full_names_and_collisions(tmp_path: Path) -> None:
    first, second = tmp_path / "one.parquet", tmp_path / "two.parquet"
    _simple_source(first, [BASE])
    _simple_source(second, [BASE, BASE + timedelta(hours=1)])
    one, two = _view(first, name="one"), _view(second, name="two")
    entities = pd.DataFrame(
        {"customer_id": [1, 1, 3], "event_timestamp": [BASE + timedelta(hours=2), BASE, BASE]}
    )
    with pytest.raises(InvalidArgument, match="full_feature_names"):
        join_views(entities, [ViewRequest(one), ViewRequest(two)])
    result = join_views(
        entities, [ViewRequest(one, ("a",)), ViewRequest(two, ("b",))], full_feature_names=True
    )
    frame = result.to_pandas()
    assert list(frame.columns) == ["customer_id", "event_timestamp", "one__a", "two__b"]
    assert frame["two__b"].tolist()[:2] == [1, 0]
    assert result.features == ["one:a", "two:b"]
    assert set(result.source_versions) == {"one", "two"}


def test_arrow_entity_frame_and_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _simple_source(path, [BASE])
    view = _view(path, schema=(Field("a", "float32"), Field("b", "int32")))
    table = pa.table(
        {"customer_id": [1, 1], "event_timestamp": pa.array([BASE, None], pa.timestamp("ms"))}
    )
    out = join_views(table, [ViewRequest(view)]).to_arrow()
    assert out.schema.field("a").type == pa.float32()
    assert out.schema.field("b").type == pa.int32()
    assert out.column("b").to_pylist() == [0, None]  # a row without a time gets no value


def test_folder_source_orders_ties_by_file_then_row(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, name in enumerate(["p1.parquet", "p0.parquet"]):
        _simple_source(folder / name, [BASE])
        frame = pd.read_parquet(folder / name)
        frame["b"] = [10 + i]
        frame.to_parquet(folder / name)
    view = _view(folder)
    entities = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]})
    # Tied rows: the one in the later file (by name) wins, whatever order they were written in.
    assert join_views(entities, [ViewRequest(view)]).to_pandas()["b"].tolist() == [10]


def test_csv_source(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "customer_id,ts,created,a,b\n1,2024-01-01 00:00:00,2024-01-01 00:00:00,1.5,7\n",
        encoding="utf-8",
    )
    entities = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE + timedelta(hours=1)]})
    frame = join_views(entities, [ViewRequest(_view(path))]).to_pandas()
    assert frame["a"].tolist() == [1.5] and frame["b"].tolist() == [7]


def test_timestamp_precisions_compare_exactly(tmp_path: Path) -> None:
    """Seconds in the source, microseconds and nanoseconds in the entity frame, at the edges."""
    path = tmp_path / "seconds.parquet"
    second = pa.timestamp("s")
    pq.write_table(
        pa.table(
            {
                "customer_id": [1, 1],
                "ts": pa.array([datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 10)], second),
                "a": [1.0, 2.0],
                "b": [1, 2],
            }
        ),
        path,
    )
    view = _view(path, ttl=timedelta(hours=1), created=None)
    ten = datetime(2024, 1, 1, 10)
    entities = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "event_timestamp": [
                pd.Timestamp(ten - timedelta(microseconds=1)),
                pd.Timestamp(ten),
                pd.Timestamp("2024-01-01T09:59:59.999999999"),  # must not round up to 10:00
            ],
        }
    )
    frame = join_views(entities, [ViewRequest(view)]).to_pandas()
    assert [None if pd.isna(v) else int(v) for v in frame["b"]] == [1, 2, 1]
    later = pd.DataFrame(
        {"customer_id": [1], "event_timestamp": [pd.Timestamp("2024-01-01T10:59:59.5")]}
    )
    assert join_views(later, [ViewRequest(view)]).to_pandas()["b"].tolist() == [2]
    expired = pd.DataFrame(
        {"customer_id": [1], "event_timestamp": [pd.Timestamp("2024-01-01T11:00:00.5")]}
    )
    assert pd.isna(join_views(expired, [ViewRequest(view)]).to_pandas()["b"].iloc[0])
    nanos = tmp_path / "nanos.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": [1],
                "ts": pa.array(
                    [pd.Timestamp("2024-01-01T10:00:00.000000500").value], pa.timestamp("ns")
                ),
                "a": [1.0],
                "b": [1],
            }
        ),
        nanos,
    )
    micro = pa.table(
        {
            "customer_id": [1, 1],
            "event_timestamp": pa.array([ten, ten + timedelta(microseconds=1)], pa.timestamp("us")),
        }
    )
    out = join_views(micro, [ViewRequest(_view(nanos, created=None))]).to_pandas()
    assert [None if pd.isna(v) else int(v) for v in out["b"]] == [None, 1]
    micros = tmp_path / "micros.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": [1],
                "ts": pa.array([ten], pa.timestamp("us")),
                "a": [1.0],
                "b": [1],
            }
        ),
        micros,
    )
    nano_entities = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "event_timestamp": [
                pd.Timestamp("2024-01-01T09:59:59.9999996"),
                pd.Timestamp("2024-01-01T10:00:00.0000004"),
            ],
        }
    )
    out = join_views(nano_entities, [ViewRequest(_view(micros, created=None))]).to_pandas()
    assert [None if pd.isna(v) else int(v) for v in out["b"]] == [None, 1]


_ROWS = st.lists(
    st.tuples(
        st.integers(0, 3),  # key
        st.integers(0, 6),  # event hour
        st.one_of(st.none(), st.integers(0, 2)),  # created minute
    ),
    min_size=0,
    max_size=25,
)
_ENTITIES = st.lists(st.tuples(st.integers(0, 4), st.integers(-1, 8)), min_size=1, max_size=15)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_ROWS, wanted=_ENTITIES, ttl_hours=st.one_of(st.none(), st.integers(1, 3)))
def test_property_matches_brute_force(
    rows: list[tuple[int, int, int | None]],
    wanted: list[tuple[int, int]],
    ttl_hours: int | None,
    tmp_path: Path,
) -> None:
    source = pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "ts": pd.Series([BASE + timedelta(hours=r[1]) for r in rows], dtype="datetime64[us]"),
            "created": pd.Series(
                [None if r[2] is None else BASE + timedelta(minutes=r[2]) for r in rows],
                dtype="datetime64[us]",
            ),
            "a": pd.Series([float(i) for i in range(len(rows))], dtype="float64"),
            "b": pd.Series(list(range(len(rows))), dtype="int64"),
        }
    )
    path = tmp_path / f"hypothesis-{uuid.uuid4().hex}.parquet"
    pq.write_table(pa.Table.from_pandas(source, preserve_index=False), path)
    entities = pd.DataFrame(
        {
            "customer_id": [k for k, _ in wanted],
            "event_timestamp": [BASE + timedelta(hours=h) for _, h in wanted],
        }
    )
    ttl = None if ttl_hours is None else timedelta(hours=ttl_hours)
    result = join_views(entities, [ViewRequest(_view(path, ttl=ttl))]).to_pandas()
    assert _got(result) == _reference(source, entities, ttl)
