"""Online lookups: references and services resolved by the registry, values with TTL staleness."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from online_support import DEFINITIONS, model_service, ratio_service, write_rows

from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.features._lookup import get_online, parse_ref, plan_lookup
from loopml.features._online import OnlineStoreUnavailable
from loopml.features._online_service import OnlineFeatures
from loopml.features._online_sqlite import SqliteOnlineStore
from loopml.features._registry import FeatureRegistry
from loopml.tracking import Client


@pytest.fixture
def lookups(tmp_path: Path) -> Iterator[OnlineFeatures]:
    client = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=Settings(home=tmp_path / "home"),
        object_store_uri=str(tmp_path / "objects"),
    )
    FeatureRegistry(client).apply(DEFINITIONS)
    service = OnlineFeatures(client)
    write_rows(service.online, int(time.time() * 1000))
    yield service
    service.close()
    client.close()


def test_values_timestamps_and_staleness_per_entity_row(lookups: OnlineFeatures) -> None:
    result = lookups.get_online(
        ["stats:spend", "profile:age", "stats:tier"],
        [{"customer_id": 3}, {"customer_id": 1}, {"customer_id": 4}, {"customer_id": 1}],
    )
    assert result.features == ("spend", "age", "tier")
    assert result.rows == 4
    assert result.values == {
        "spend": [30.0, 10.0, None, 10.0],
        "age": [33, 41, None, 41],
        "tier": ["c", "a", None, "a"],
    }
    assert result.event_ts_ms["age"] == [7, 5, None, 5]
    spend_ts = result.event_ts_ms["spend"]
    assert spend_ts[2] is None and spend_ts[1] == spend_ts[3]
    # stats has a one-hour TTL: customer 3's row is two hours old; profile never expires
    assert result.stale["spend"] == [True, False, False, False]
    assert result.stale["age"] == [False, False, False, False]
    frame = result.to_pandas()
    assert list(frame.columns) == ["spend", "age", "tier"] and len(frame) == 4


def test_a_service_by_name_or_object(lookups: OnlineFeatures) -> None:
    by_name = lookups.get_online("model_v1", {"customer_id": [1, 2]})
    assert by_name.features == ("spend", "orders", "age")
    assert by_name.values == {"spend": [10.0, 20.0], "orders": [1, 2], "age": [41, None]}
    assert lookups.get_online(model_service, {"customer_id": [1, 2]}).values == by_name.values


def test_full_feature_names_tell_views_apart(lookups: OnlineFeatures) -> None:
    with pytest.raises(InvalidArgument, match="full_feature_names"):
        lookups.get_online(["stats:spend", "profile:spend"], [{"customer_id": 1}])
    result = lookups.get_online(
        ["stats:spend", "profile:spend"], [{"customer_id": 1}], full_feature_names=True
    )
    assert result.values == {"stats__spend": [10.0], "profile__spend": [-1.0]}


def test_on_demand_features_from_request_data(lookups: OnlineFeatures) -> None:
    result = lookups.get_online(
        ratio_service, [{"customer_id": 1}, {"customer_id": 3}], {"amount": [5.0, 60.0]}
    )
    assert result.features == ("spend", "amount_ratio")
    assert result.values["amount_ratio"] == [0.5, 2.0]
    assert result.event_ts_ms["amount_ratio"] == [None, None]
    assert result.stale["amount_ratio"] == [False, True]  # its input from stats is stale
    # request fields may come inside the entity rows too
    inline = lookups.get_online(["ratios:amount_ratio"], [{"customer_id": 2, "amount": 10.0}])
    assert inline.values == {"amount_ratio": [0.5]}
    with pytest.raises(InvalidArgument, match="request field 'amount'"):
        lookups.get_online(["ratios:amount_ratio"], [{"customer_id": 2}])


def test_bad_references_and_rows_are_named(lookups: OnlineFeatures) -> None:
    with pytest.raises(InvalidArgument, match="'view:feature'"):
        lookups.get_online(["stats"], [{"customer_id": 1}])
    with pytest.raises(InvalidArgument, match="no feature 'nope'"):
        lookups.get_online(["stats:nope"], [{"customer_id": 1}])
    with pytest.raises(NotFound, match="'ghost'"):
        lookups.get_online(["ghost:x"], [{"customer_id": 1}])
    with pytest.raises(NotFound):
        lookups.get_online("no_such_service", [{"customer_id": 1}])
    with pytest.raises(InvalidArgument, match="join key 'customer_id' of feature view 'stats'"):
        lookups.get_online(["stats:spend"], [{"user": 1}])
    with pytest.raises(InvalidArgument, match="Entity row 1 has no 'customer_id'"):
        lookups.get_online(["stats:spend"], [{"customer_id": 1}, {"other": 2}])
    with pytest.raises(InvalidArgument, match="Entity row 0 is empty"):
        lookups.get_online(["stats:spend"], [{}])
    with pytest.raises(InvalidArgument, match="different lengths"):
        lookups.get_online(["stats:spend"], {"customer_id": [1, 2], "x": [1]})
    with pytest.raises(InvalidArgument, match="list of 'view:feature'"):
        lookups.get_online([1, 2], [{"customer_id": 1}])  # type: ignore[list-item]


def test_no_entity_rows_give_empty_columns(lookups: OnlineFeatures) -> None:
    result = lookups.get_online(["stats:spend"], [])
    assert result.rows == 0 and result.values == {"spend": []}


def test_plans_are_kept_and_follow_new_definitions(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path / 'm.db'}", settings=Settings(home=tmp_path / "h"))
    registry = FeatureRegistry(client)
    registry.apply(DEFINITIONS)
    online = SqliteOnlineStore(tmp_path / "o.db")
    kept = OnlineFeatures(client, online=online, plan_ttl_seconds=3600)
    assert kept.plan("model_v1") is kept.plan("model_v1")
    fresh = OnlineFeatures(client, online=online, plan_ttl_seconds=0)
    assert fresh.plan("model_v1") is not fresh.plan("model_v1")
    kept.close()
    assert online.count("stats") == 0  # a store passed in is the caller's to close
    online.close()
    client.close()


def test_parse_ref() -> None:
    assert parse_ref("a:b") == ("a", "b")
    for bad in ("a", ":b", "a:", "a:b:c", 3):
        with pytest.raises(InvalidArgument):
            parse_ref(bad)


def test_lookup_with_the_store_down_is_unavailable(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path / 'm.db'}", settings=Settings(home=tmp_path / "h"))
    registry = FeatureRegistry(client)
    registry.apply(DEFINITIONS)
    plan = plan_lookup(["stats:spend"], registry)
    service = OnlineFeatures(client, online="redis://127.0.0.1:1/0")
    with pytest.raises(OnlineStoreUnavailable):
        get_online(plan, service.online, [{"customer_id": 1}])
    service.close()
    client.close()
