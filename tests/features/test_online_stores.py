"""The online stores: one suite for SQLite and real Redis; Redis down fails fast and clearly."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.features._online import OnlineRow, OnlineStore, OnlineStoreUnavailable, encode_key
from loopml.features._online_open import open_online_store
from loopml.features._online_redis import RedisOnlineStore
from loopml.features._online_sqlite import SqliteOnlineStore

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["sqlite", "redis"])
def online(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    store: OnlineStore
    if request.param == "sqlite":
        store = SqliteOnlineStore(tmp_path / "online.db")
        yield store
        store.close()
        return
    redis_store = RedisOnlineStore(REDIS, prefix=f"loopml-test:{uuid.uuid4().hex}")
    yield redis_store
    for key in redis_store._redis.scan_iter(match=f"{redis_store.prefix}:*"):
        redis_store._redis.delete(key)
    redis_store.close()


def test_round_trip_keeps_values_and_timestamps(online: OnlineStore) -> None:
    stored = online.write(
        "stats", [(1,), (2,)], {"a": [1.5, 2.5], "b": [10, 20]}, [1000, 2000], [5, 6]
    )
    assert stored == 2
    rows = online.read("stats", [(2,), (3,), (1,), (2,)])
    assert rows == [
        OnlineRow({"a": 2.5, "b": 20}, 2000, 6),
        None,
        OnlineRow({"a": 1.5, "b": 10}, 1000, 5),
        OnlineRow({"a": 2.5, "b": 20}, 2000, 6),
    ]
    assert online.count("stats") == 2
    assert online.read("stats", []) == []


def test_read_picks_features_and_fills_missing_with_none(online: OnlineStore) -> None:
    online.write("stats", [(1,)], {"a": [1.0], "b": [2]}, [1])
    assert online.read("stats", [(1,)], ["b", "zz"]) == [OnlineRow({"b": 2, "zz": None}, 1, 0)]


def test_views_are_separate(online: OnlineStore) -> None:
    online.write("one", [(1,)], {"a": [1]}, [1])
    online.write("two", [(1,)], {"a": [2]}, [1])
    assert [r.values["a"] for r in online.read("one", [(1,)]) if r] == [1]
    online.delete_view("one")
    assert online.read("one", [(1,)]) == [None]
    assert online.count("one") == 0
    assert online.read("two", [(1,)])[0] is not None


def test_only_newer_rows_replace_stored_ones(online: OnlineStore) -> None:
    online.write("v", [(1,)], {"a": [1]}, [2000], [10])
    assert online.write("v", [(1,)], {"a": [0]}, [1000], [99]) == 0  # older event
    assert online.write("v", [(1,)], {"a": [0]}, [2000], [9]) == 0  # same event, older created
    assert online.read("v", [(1,)])[0] == OnlineRow({"a": 1}, 2000, 10)
    assert online.write("v", [(1,)], {"a": [2]}, [2000], [10]) == 1  # a tie: the later write
    assert online.write("v", [(1,)], {"a": [3]}, [2000], [11]) == 1
    assert online.read("v", [(1,)])[0] == OnlineRow({"a": 3}, 2000, 11)
    assert online.write("v", [(1,)], {"a": [4]}, [3000]) == 1
    assert online.read("v", [(1,)])[0] == OnlineRow({"a": 4}, 3000, 0)


def test_duplicate_keys_in_one_write_keep_the_latest(online: OnlineStore) -> None:
    online.write(
        "v",
        [(1,), (1,), (1,), (1,)],
        {"a": ["late", "latest-created", "early", "tie-later"]},
        [5, 5, 1, 5],
        [1, 3, 9, 3],
    )
    assert online.read("v", [(1,)])[0] == OnlineRow({"a": "tie-later"}, 5, 3)


def test_negative_and_large_timestamps_order_numerically(online: OnlineStore) -> None:
    online.write("v", [(1,)], {"a": [1]}, [-5000])
    online.write("v", [(1,)], {"a": [2]}, [-10])
    online.write("v", [(1,)], {"a": [0]}, [-20])
    online.write("v", [(2,)], {"a": [1]}, [2**40])
    online.write("v", [(2,)], {"a": [0]}, [2**39])
    rows = online.read("v", [(1,), (2,)])
    assert [(r.values["a"], r.event_ts_ms) for r in rows if r] == [(2, -10), (1, 2**40)]


def test_keys_are_typed_and_composite(online: OnlineStore) -> None:
    online.write("v", [(1, "x"), ("1", "x")], {"a": ["int", "str"]}, [1, 1])
    assert [r.values["a"] for r in online.read("v", [(1, "x"), ("1", "x")]) if r] == [
        "int",
        "str",
    ]
    # numpy scalars and integral floats find the row written with a Python int
    assert online.read("v", [(np.int64(1), "x")])[0] is not None
    assert online.read("v", [(1.0, "x")])[0] is not None
    assert online.read("v", [("x", 1)]) == [None]
    assert encode_key(7) == encode_key((7,))
    with pytest.raises(InvalidArgument, match="cannot be used"):
        online.read("v", [(2**70,)])
    with pytest.raises(InvalidArgument, match="cannot be used"):
        online.read("v", [(object(),)])


def test_value_types_survive(online: OnlineStore) -> None:
    when = datetime(2026, 11, 26, 1, 2, 3, 456000, tzinfo=UTC)
    table = pa.table(
        {
            "i": pa.array([1, None], pa.int64()),
            "f": pa.array([0.25, float("nan")], pa.float64()),
            "b": pa.array([True, False]),
            "s": pa.array(["é", ""]),
            "raw": pa.array([b"\x00\xff", b""]),
            "t": pa.array([when, None], pa.timestamp("ms", tz="UTC")),
            "naive": pa.array([datetime(2026, 1, 1), None], pa.timestamp("us")),
        }
    )
    online.write("v", [(1,), (2,)], table, [1, 1])
    first, second = online.read("v", [(1,), (2,)])
    assert first is not None and second is not None
    assert first.values == {
        "i": 1,
        "f": 0.25,
        "b": True,
        "s": "é",
        "raw": b"\x00\xff",
        "t": when,
        "naive": datetime(2026, 1, 1, tzinfo=UTC),
    }
    assert second.values["f"] is None and second.values["i"] is None


def test_numpy_columns_are_accepted(online: OnlineStore) -> None:
    online.write(
        "v",
        [(int(k),) for k in np.arange(3)],
        {"x": np.array([1.0, 2.0, 3.0], dtype=np.float32)},
        np.array([10, 20, 30]),
    )
    assert [r.values["x"] for r in online.read("v", [(0,), (2,)]) if r] == [1.0, 3.0]


def test_many_keys_beyond_one_statement(online: OnlineStore) -> None:
    keys = [(i,) for i in range(2500)]
    assert online.write("v", keys, {"a": list(range(2500))}, [1] * 2500) == 2500
    rows = online.read("v", [*keys, (99999,)])
    assert [r.values["a"] for r in rows[:-1] if r] == list(range(2500))
    assert rows[-1] is None


@pytest.mark.parametrize(
    ("values", "events", "created", "message"),
    [
        ({"a": [1, 2]}, [1], None, "2 keys but 1 event timestamps"),
        ({"a": [1, 2]}, [1, 2, 3], None, "2 keys but 3 event timestamps"),
        ({"a": [1, 2, 3]}, [1, 2], None, "feature 'a' has 3 values for 2 keys"),
        ({"a": [1, 2]}, [1, 2], [1], "and 1 created timestamps"),
        ([1, 2], [1, 2], None, "pyarrow Table or a mapping"),
        ({"a": [object(), 1]}, [1, 2], None, "Cannot store feature values"),
        ({"a": [1, 2]}, [1, None], None, "row 1 has no valid event timestamp"),
    ],
)
def test_malformed_writes_are_refused(
    online: OnlineStore, values: object, events: list[int], created: list[int] | None, message: str
) -> None:
    keys = [(1,), (2,)]
    with pytest.raises(InvalidArgument, match=message):
        online.write("v", keys, values, events, created)
    assert online.count("v") == 0


def test_sqlite_store_serves_threads(tmp_path: Path) -> None:
    store = SqliteOnlineStore(tmp_path / "online.db")
    store.write("v", [(i,) for i in range(100)], {"a": list(range(100))}, [1] * 100)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(50):
                rows = store.read("v", [(i,) for i in range(100)])
                assert [r.values["a"] for r in rows if r] == list(range(100))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    store.write("v", [(0,)], {"a": [0]}, [2])
    for thread in threads:
        thread.join()
    assert errors == []
    store.close()
    # a second store on the same file sees the rows (they are on disk, not in memory)
    again = SqliteOnlineStore(tmp_path / "online.db")
    assert again.count("v") == 100
    again.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_redis_down_is_a_clear_error() -> None:
    store = RedisOnlineStore(f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(OnlineStoreUnavailable, match="unavailable") as caught:
        store.read("v", [(1,)])
    assert caught.value.http_status == 503
    with pytest.raises(OnlineStoreUnavailable):
        store.write("v", [(1,)], {"a": [1]}, [1])
    store.close()


def test_redis_that_never_answers_times_out() -> None:
    """A server that accepts connections but never replies: a timeout, not a hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    store = RedisOnlineStore(f"redis://127.0.0.1:{port}/0", timeout_seconds=0.3)
    try:
        with pytest.raises(OnlineStoreUnavailable, match="unavailable"):
            store.read("v", [(1,)])
    finally:
        store.close()
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_redis_password_is_not_shown() -> None:
    store = RedisOnlineStore(f"redis://user:secret@127.0.0.1:{_free_port()}/0")
    with pytest.raises(OnlineStoreUnavailable) as caught:
        store.count("v")
    assert "secret" not in caught.value.message
    store.close()


def test_open_online_store_follows_uri_and_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    default = open_online_store(None, settings=settings)
    assert isinstance(default, SqliteOnlineStore)
    assert default.path == tmp_path / "home" / "features_online.db"
    default.close()
    named = open_online_store(f"sqlite:///{tmp_path / 'x' / 'o.db'}")
    assert isinstance(named, SqliteOnlineStore) and named.path == tmp_path / "x" / "o.db"
    named.close()
    configured = open_online_store(None, settings=Settings(home=tmp_path, features_online=REDIS))
    assert isinstance(configured, RedisOnlineStore)
    configured.close()
    with pytest.raises(InvalidArgument, match="Unknown online store URI"):
        open_online_store("memcached://x")
    with pytest.raises(InvalidArgument, match="names no file"):
        open_online_store("sqlite:///")


def test_settings_read_the_online_store_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOOPML_FEATURES_ONLINE", REDIS)
    assert Settings().features_online == REDIS
