"""The join's cheap path for sources without event-time ties, and its remembered verdicts."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopml.features._definitions import Entity, FeatureView, Field, FileSource
from loopml.features._duck import connect
from loopml.features._offline import ViewRequest, join_views
from loopml.features._sources import scan_source
from loopml.features._ties import FileTieCache, NoTieCache, exact_keys, verdict_key

CUSTOMER = Entity("customer", ("customer_id",))
REGION = Entity("region", ("region",))
BASE = datetime(2024, 1, 1)


def _view(path: Path, entity: Entity = CUSTOMER, ttl: timedelta | None = None) -> FeatureView:
    schema = (Field("a", "float64"), Field("b", "int64"))
    return FeatureView("stats", (entity,), schema, FileSource(str(path), "ts", "created"), ttl=ttl)


def _write(path: Path, frame: pd.DataFrame) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def _tie_free(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Distinct (customer_id, ts) pairs, some without a time; regions shared, so they tie."""
    pairs = rng.choice(20 * 50, size=n, replace=False)
    ts = [BASE + timedelta(hours=int(h)) for h in pairs % 50]
    return pd.DataFrame(
        {
            "customer_id": pairs // 50,
            "region": (pairs // 50) % 3,
            "ts": [None if i % 17 == 0 else t for i, t in enumerate(ts)],
            "created": [BASE + timedelta(minutes=int(m)) for m in rng.integers(0, 5, n)],
            "a": rng.random(n),
            "b": np.arange(n),
        }
    )


def _entities(rng: np.random.Generator, key: str = "customer_id") -> pd.DataFrame:
    m = 300
    return pd.DataFrame(
        {
            key: rng.integers(0, 22, m),
            # Whole hours hit feature times exactly; half hours fall between them.
            "event_timestamp": [
                BASE + timedelta(minutes=int(x))
                for x in rng.choice([0, 30], m) + 60 * rng.integers(-1, 55, m)
            ],
            "label": np.arange(m),
        }
    )


def _verdict(
    cache: FileTieCache, path: Path, keys: tuple[str, ...] = ("customer_id",)
) -> bool | None:
    view = _view(path)
    conn = connect()
    try:
        digest = scan_source(conn, view, "t").digest.result()
    finally:
        conn.close()
    return cache.get(verdict_key(digest, keys, "ts"))


@pytest.mark.parametrize("ttl", [None, timedelta(hours=5)])
def test_tie_free_source_gives_the_same_rows_both_ways(
    ttl: timedelta | None, tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    path = tmp_path / "source.parquet"
    _write(path, _tie_free(rng, 600))
    entities = _entities(rng)
    request = [ViewRequest(_view(path, ttl=ttl))]
    cache = FileTieCache(tmp_path / "cache")

    full = join_views(entities, request, tie_cache=NoTieCache()).to_arrow()
    first = join_views(entities, request, tie_cache=cache).to_arrow()  # checks, remembers
    assert _verdict(cache, path) is False
    again = join_views(entities, request, tie_cache=cache).to_arrow()  # from the verdict
    assert first.equals(full)
    assert again.equals(full)
    assert full.column("a").null_count < len(entities)  # the comparison is not vacuous


def test_changed_source_with_ties_is_tie_broken_after_an_older_no_ties_verdict(
    tmp_path: Path,
) -> None:
    path = tmp_path / "source.parquet"
    cache = FileTieCache(tmp_path / "cache")
    entities = pd.DataFrame({"customer_id": [1, 2], "event_timestamp": [BASE, BASE]})
    older = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "ts": [BASE, BASE],
            "created": [BASE, BASE],
            "a": [0.5, 0.6],
            "b": [5, 6],
        }
    )
    _write(path, older)
    join_views(entities, [ViewRequest(_view(path))], tie_cache=cache)
    assert _verdict(cache, path) is False

    # Same keys and times, now tied: key 1 by created time, key 2 by row position.
    changed = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2],
            "ts": [BASE] * 5,
            "created": [BASE + timedelta(minutes=m) for m in (0, 9, 3)] + [BASE, BASE],
            "a": [0.1, 0.2, 0.3, 0.4, 0.5],
            "b": [1, 2, 3, 4, 5],
        }
    )
    _write(path, changed)
    for _ in range(2):  # checked afresh, then from the new content's own verdict
        frame = join_views(entities, [ViewRequest(_view(path))], tie_cache=cache).to_pandas()
        assert frame["b"].tolist() == [2, 5]
        assert frame["a"].tolist() == [0.2, 0.5]
    assert _verdict(cache, path) is True


def test_verdict_is_per_join_key(tmp_path: Path) -> None:
    """No ties on customer_id says nothing about region: that view still breaks ties."""
    path = tmp_path / "source.parquet"
    source = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "region": [7, 7, 7],
            "ts": [BASE] * 3,
            "created": [BASE + timedelta(minutes=m) for m in (0, 5, 1)],
            "a": [0.1, 0.2, 0.3],
            "b": [1, 2, 3],
        }
    )
    _write(path, source)
    cache = FileTieCache(tmp_path / "cache")
    by_customer = pd.DataFrame({"customer_id": [1, 2, 3], "event_timestamp": [BASE] * 3})
    out = join_views(by_customer, [ViewRequest(_view(path))], tie_cache=cache).to_pandas()
    assert out["b"].tolist() == [1, 2, 3]
    by_region = pd.DataFrame({"region": [7], "event_timestamp": [BASE]})
    view = _view(path, REGION)
    assert join_views(by_region, [ViewRequest(view)], tie_cache=cache).to_pandas()[
        "b"
    ].tolist() == [2]
    assert _verdict(cache, path) is False
    assert _verdict(cache, path, ("region",)) is True


def test_damaged_verdict_is_ignored_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "source.parquet"
    source = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "ts": [BASE, BASE],
            "created": [BASE + timedelta(1), BASE],
            "a": [0.1, 0.2],
            "b": [1, 2],
        }
    )
    _write(path, source)
    cache = FileTieCache(tmp_path / "cache")
    join_views(
        pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]}),
        [ViewRequest(_view(path))],
        tie_cache=cache,
    )
    entries = list(cache.folder.iterdir())
    assert len(entries) == 1
    entries[0].write_text("garbage")
    assert cache.get(entries[0].name) is None
    entities = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]})
    out = join_views(entities, [ViewRequest(_view(path))], tie_cache=cache).to_pandas()
    assert out["b"].tolist() == [1]  # the later created time wins
    assert _verdict(cache, path) is True


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_cache_still_joins(tmp_path: Path) -> None:
    path = tmp_path / "source.parquet"
    _write(path, _tie_free(np.random.default_rng(1), 50))
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        entities = _entities(np.random.default_rng(2))
        request = [ViewRequest(_view(path))]
        got = join_views(entities, request, tie_cache=FileTieCache(folder)).to_arrow()
        assert got.equals(join_views(entities, request, tie_cache=NoTieCache()).to_arrow())
    finally:
        folder.chmod(0o700)


def test_unwritable_cache_path_still_joins(tmp_path: Path) -> None:
    """A cache folder that cannot exist (a file is in the way) only forgets the verdict."""
    path = tmp_path / "source.parquet"
    _write(path, _tie_free(np.random.default_rng(1), 50))
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    cache = FileTieCache(blocker / "ties")
    entities = _entities(np.random.default_rng(2))
    request = [ViewRequest(_view(path))]
    got = join_views(entities, request, tie_cache=cache).to_arrow()
    assert got.equals(join_views(entities, request, tie_cache=NoTieCache()).to_arrow())
    assert cache.get("anything") is None


def test_inexact_key_comparisons_always_break_ties(tmp_path: Path) -> None:
    path = tmp_path / "source.parquet"
    _write(path, _tie_free(np.random.default_rng(3), 20))
    conn = connect()
    try:
        scan = scan_source(conn, _view(path), "t")
    finally:
        conn.close()
    assert exact_keys({"customer_id": "BIGINT"}, scan)
    assert exact_keys({"customer_id": "INTEGER"}, scan)
    assert not exact_keys({"customer_id": "DOUBLE"}, scan)
    assert not exact_keys({"customer_id": "DECIMAL(18,3)"}, scan)


def test_float_keys_with_distinct_values_still_join_correctly(tmp_path: Path) -> None:
    """An entity key compared as DOUBLE never takes the cheap path, and no verdict is kept."""
    path = tmp_path / "source.parquet"
    _write(path, _tie_free(np.random.default_rng(4), 100))
    cache = FileTieCache(tmp_path / "cache")
    entities = _entities(np.random.default_rng(5)).astype({"customer_id": "float64"})
    request = [ViewRequest(_view(path))]
    got = join_views(entities, request, tie_cache=cache).to_arrow()
    assert got.equals(join_views(entities, request, tie_cache=NoTieCache()).to_arrow())
    assert not cache.folder.exists()


def test_scan_notices_a_rewritten_file(tmp_path: Path) -> None:
    path = tmp_path / "source.parquet"
    _write(path, _tie_free(np.random.default_rng(6), 30))
    conn = connect()
    try:
        scan = scan_source(conn, _view(path), "t")
        scan.digest.result()
        assert scan.unchanged()
        _write(path, _tie_free(np.random.default_rng(8), 30))
        assert not scan.unchanged()
    finally:
        conn.close()


def test_coarser_source_times_compare_exactly_on_the_cheap_path(tmp_path: Path) -> None:
    """Second-precision feature times against nanosecond entity times, floored, both ways."""
    path = tmp_path / "source.parquet"
    frame = _tie_free(np.random.default_rng(9), 200).dropna(subset=["ts"])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(
        table.schema.get_field_index("ts"), "ts", table.column("ts").cast(pa.timestamp("s"))
    )
    pq.write_table(table, path, coerce_timestamps=None, allow_truncated_timestamps=False)
    times = pd.Series(frame["ts"].tolist()[:50])
    keys = frame["customer_id"].tolist()[:50] * 3
    one = pd.Timedelta(1, "ns")
    # Just before, exactly at, and just after each feature time.
    entities = pd.DataFrame(
        {"customer_id": keys, "event_timestamp": pd.concat([times - one, times, times + one])}
    ).reset_index(drop=True)
    request = [ViewRequest(_view(path))]
    cache = FileTieCache(tmp_path / "cache")
    got = join_views(entities, request, tie_cache=cache).to_arrow()
    assert _verdict(cache, path) is False
    assert got.equals(join_views(entities, request, tie_cache=NoTieCache()).to_arrow())
