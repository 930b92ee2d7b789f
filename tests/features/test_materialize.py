"""Materialisation: the latest row per key in a window lands online, incrementally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.features._definitions import Entity, FeatureView, Field, FileSource
from loopml.features._materialize import (
    materialize,
    materialize_incremental,
    registered_views,
    to_ms,
)
from loopml.features._offline import ViewRequest, join_views
from loopml.features._online import OnlineStore
from loopml.features._online_redis import RedisOnlineStore
from loopml.features._online_sqlite import SqliteOnlineStore
from loopml.features._registry import FeatureRegistry
from loopml.tracking import Client

CUSTOMER = Entity("customer", ("customer_id", "region"))
BASE = datetime(2024, 1, 1)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[FeatureRegistry]:
    settings = Settings(home=tmp_path / "home", flush_interval_seconds=0.2)
    client = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )
    yield FeatureRegistry(client)
    client.close()


@pytest.fixture(params=["sqlite", "redis"])
def online(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    if request.param == "sqlite":
        store: OnlineStore = SqliteOnlineStore(str(tmp_path / "online.db"))
        yield store
        store.close()
        return
    redis_store = RedisOnlineStore(
        "redis://127.0.0.1:6379/0", prefix=f"loopml-test:{uuid.uuid4().hex}"
    )
    yield redis_store
    for key in redis_store._redis.scan_iter(match=f"{redis_store.prefix}:*"):
        redis_store._redis.delete(key)
    redis_store.close()


def _view(tmp_path: Path, ttl: timedelta | None = None) -> FeatureView:
    rows = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "region": ["eu", "eu", "eu", "eu", "eu", "us"],
            "ts": [BASE + timedelta(hours=h) for h in (0, 1, 1, 0, 5, 2)],
            "created": [BASE + timedelta(minutes=m) for m in (0, 5, 0, 0, 0, 120)],
            "spend": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "tier": ["a", "b", "c", "d", "e", "f"],
        }
    )
    path = tmp_path / "stats.parquet"
    rows.to_parquet(path)
    return FeatureView(
        "stats",
        (CUSTOMER,),
        (Field("spend", "float64"), Field("tier", "string")),
        FileSource(str(path), "ts", "created"),
        ttl=ttl,
    )


def _online_values(online: OnlineStore) -> list[tuple[float, str, int] | None]:
    rows = online.read("stats", [(1, "eu"), (2, "eu"), (3, "us"), (1, "us")])
    return [
        None if r is None else (r.values["spend"], r.values["tier"], r.event_ts_ms) for r in rows
    ]


def _ms(when: datetime) -> int:
    return to_ms(when, "t")


def test_window_loads_latest_row_per_key(
    registry: FeatureRegistry, online: OnlineStore, tmp_path: Path
) -> None:
    view = _view(tmp_path)
    registry.apply([CUSTOMER, view])
    done = materialize([view], BASE, BASE + timedelta(hours=3), online=online, log=registry)
    assert [(d.view, d.rows) for d in done] == [("stats", 3)]
    hour = timedelta(hours=1)
    # Key 1: the tie at 01:00 goes to the later created time; key 2's 05:00 row is outside.
    assert _online_values(online) == [
        (2.0, "b", _ms(BASE + hour)),
        (4.0, "d", _ms(BASE)),
        (6.0, "f", _ms(BASE + 2 * hour)),
        None,
    ]
    assert online.read("stats", [(3, "us")])[0].created_ts_ms == _ms(BASE + 2 * hour)  # type: ignore[union-attr]
    [record] = registry.materializations("stats")
    assert (record.start_ms, record.end_ms, record.rows) == (
        _ms(BASE),
        _ms(BASE + 3 * hour),
        3,
    )


def test_incremental_continues_from_the_last_end(
    registry: FeatureRegistry, online: OnlineStore, tmp_path: Path
) -> None:
    view = _view(tmp_path)
    registry.apply([CUSTOMER, view])
    first = materialize_incremental([view], BASE + timedelta(hours=1), online=online, log=registry)
    assert [d.rows for d in first] == [2]  # no TTL, never loaded: from the earliest row
    assert _online_values(online)[:2] == [(1.0, "a", _ms(BASE)), (4.0, "d", _ms(BASE))]
    second = materialize_incremental([view], BASE + timedelta(hours=6), online=online, log=registry)
    assert [(d.start_ms, d.rows) for d in second] == [(_ms(BASE + timedelta(hours=1)), 3)]
    assert [v[0] if v else None for v in _online_values(online)] == [2.0, 5.0, 6.0, None]
    assert materialize_incremental([view], BASE, online=online, log=registry) == []
    # An older window loaded afterwards changes nothing online.
    materialize([view], BASE, BASE + timedelta(minutes=30), online=online, log=registry)
    assert [v[0] if v else None for v in _online_values(online)] == [2.0, 5.0, 6.0, None]
    assert registry.last_materialized("stats") == _ms(BASE + timedelta(hours=6))


def test_first_incremental_load_starts_a_ttl_before_the_end(
    registry: FeatureRegistry, online: OnlineStore, tmp_path: Path
) -> None:
    view = _view(tmp_path, ttl=timedelta(hours=2))
    registry.apply([CUSTOMER, view])
    end = BASE + timedelta(hours=6)
    [done] = materialize_incremental([view], end, online=online, log=registry)
    assert (done.start_ms, done.rows) == (_ms(BASE + timedelta(hours=4)), 1)
    assert [v[0] if v else None for v in _online_values(online)] == [None, 5.0, None, None]


def test_bad_windows_and_aware_bounds(
    registry: FeatureRegistry, online: OnlineStore, tmp_path: Path
) -> None:
    view = _view(tmp_path)
    registry.apply([CUSTOMER, view])
    with pytest.raises(InvalidArgument, match="window is empty"):
        materialize([view], BASE, BASE, online=online, log=registry)
    with pytest.raises(InvalidArgument, match="datetime"):
        materialize([view], "yesterday", None, online=online, log=registry)  # type: ignore[arg-type]
    # 03:00+02:00 is 01:00 UTC: the window ends before the 01:00 rows.
    end = datetime(2024, 1, 1, 3, tzinfo=timezone(timedelta(hours=2)))
    [done] = materialize([view], None, end, online=online, log=registry)
    assert done.rows == 2 and done.start_ms == _ms(BASE)


@pytest.mark.parametrize("seed", range(6))
def test_online_values_match_the_offline_join_at_the_end(
    seed: int, registry: FeatureRegistry, tmp_path: Path
) -> None:
    """What materialisation loads is what a training set sees just before ``end``."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    rows = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 6, n),
            "region": rng.choice(["eu", "us"], n),
            "ts": [BASE + timedelta(hours=int(h)) for h in rng.integers(0, 6, n)],
            "created": [BASE + timedelta(minutes=int(m)) for m in rng.integers(0, 2, n)],
            "spend": rng.random(n),
            "tier": [f"t{i}" for i in range(n)],
        }
    )
    path = tmp_path / "random.parquet"
    rows.to_parquet(path)
    view = FeatureView(
        "stats",
        (CUSTOMER,),
        (Field("spend", "float64"), Field("tier", "string")),
        FileSource(str(path), "ts", "created"),
    )
    registry.apply([CUSTOMER, view])
    end = BASE + timedelta(hours=int(rng.integers(1, 7)))
    online = SqliteOnlineStore(str(tmp_path / "online.db"))
    try:
        materialize(registered_views(registry, None), None, end, online=online, log=registry)
        keys = [(c, r) for c in range(6) for r in ("eu", "us")]
        stored = [None if row is None else row.values["tier"] for row in online.read("stats", keys)]
    finally:
        online.close()
    entities = pd.DataFrame(
        {
            "customer_id": [c for c, _ in keys],
            "region": [r for _, r in keys],
            "event_timestamp": [end - timedelta(microseconds=1)] * len(keys),
        }
    )
    offline = join_views(entities, [ViewRequest(view)]).to_pandas()["tier"]
    assert stored == [None if pd.isna(v) else v for v in offline]


def test_window_bounds_are_exact_on_a_seconds_column(
    registry: FeatureRegistry, online: OnlineStore, tmp_path: Path
) -> None:
    path = tmp_path / "seconds.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": [1],
                "region": ["eu"],
                "ts": pa.array([datetime(2024, 1, 1, 10)], pa.timestamp("s")),
                "spend": [1.0],
                "tier": ["a"],
            }
        ),
        path,
    )
    view = FeatureView(
        "stats",
        (CUSTOMER,),
        (Field("spend", "float64"), Field("tier", "string")),
        FileSource(str(path), "ts"),
    )
    registry.apply([CUSTOMER, view])
    just_after = datetime(2024, 1, 1, 10, 0, 0, 400_000)
    [late] = materialize([view], just_after, None, online=online, log=registry)
    assert late.rows == 0  # 10:00:00 is before a start of 10:00:00.4 (not rounded down to it)
    [done] = materialize([view], None, just_after, online=online, log=registry)
    assert done.rows == 1  # and before an end of 10:00:00.4
    assert online.read("stats", [(1, "eu")])[0] is not None


CLI_DEFINITIONS = """
from loopml.features._definitions import Entity, FeatureView, Field, FileSource

customer = Entity("customer", ("customer_id", "region"))
stats = FeatureView(
    "stats", (customer,), (Field("spend", "float64"), Field("tier", "string")),
    FileSource("stats.parquet", "ts", "created"),
)
"""


def _cli(*args: str, home: Path, uri: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), LOOPML_TRACKING_URI=uri, COLUMNS="200")
    loopml = str(Path(sys.executable).with_name("loopml"))
    return subprocess.run([loopml, *args], capture_output=True, text=True, env=env, timeout=120)


def test_materialize_command(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _view(repo)  # writes repo/stats.parquet
    (repo / "definitions.py").write_text(CLI_DEFINITIONS, encoding="utf-8")
    uri, home, online = f"sqlite:///{tmp_path / 'cli.db'}", tmp_path / "home", tmp_path / "o.db"
    assert _cli("features", "apply", str(repo), home=home, uri=uri).returncode == 0
    where = ("--online", f"sqlite:///{online}")
    first = _cli(
        "features",
        "materialize",
        "--end",
        "2024-01-01T01:00:00",
        *where,
        "--json",
        home=home,
        uri=uri,
    )
    assert first.returncode == 0, first.stderr
    assert [(d["view"], d["rows"]) for d in json.loads(first.stdout)] == [("stats", 2)]
    more = _cli(
        "features",
        "materialize",
        "stats",
        "--incremental",
        "--end",
        "2024-01-01T06:00+00:00",
        *where,
        home=home,
        uri=uri,
    )
    assert more.returncode == 0, more.stderr
    assert "stats" in more.stdout and "3" in more.stdout
    store = SqliteOnlineStore(str(online))
    try:
        assert [r.values["spend"] if r else None for r in store.read("stats", [(2, "eu")])] == [5.0]
    finally:
        store.close()
    for bad, message in (
        (("--end", "tomorrow"), "not an ISO 8601 time"),
        (("--incremental", "--start", "2024-01-01"), "drop --start"),
        (("nope",), "nope"),
    ):
        failed = _cli("features", "materialize", *bad, *where, home=home, uri=uri)
        assert failed.returncode != 0 and message in failed.stdout + failed.stderr
        assert "Traceback" not in failed.stderr
