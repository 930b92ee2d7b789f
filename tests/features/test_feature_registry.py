"""The feature registry suite: embedded on SQLite and PostgreSQL, and remote through a server.

Versions, refusals, references and materialisation records behave the same
whichever registry answers; the concurrency tests run on the embedded one,
where the store's lock is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from feature_defs_support import CUSTOMER, MODEL_V1, STATS, all_definitions, net_amount, stats_view
from sqlalchemy import text

from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.features._definitions import (
    Entity,
    FeatureService,
    FeatureViewProjection,
    Field,
    OnDemandFeatureView,
)
from loopml.features._registry import FeatureRegistry
from loopml.features._registry_base import (
    ApplyResult,
    BaseFeatureRegistry,
    FeatureRef,
    normalize_kind,
    parse_ref,
)
from loopml.features._remote import RemoteFeatureRegistry
from loopml.store import Database
from loopml.tracking import Client
from server.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("features-server")) as running:
        yield running


def _emptied(server: LiveServer) -> LiveServer:
    db = Database(server.tracking_uri)
    with db.write() as conn:
        conn.execute(text("DELETE FROM feature_definitions"))
        conn.execute(text("DELETE FROM feature_materializations"))
    db.dispose()
    return server


@pytest.fixture(params=["sqlite", "postgres", "remote"])
def registry(
    request: pytest.FixtureRequest, tmp_path: Path, settings: Settings
) -> Iterator[BaseFeatureRegistry]:
    found: BaseFeatureRegistry
    if request.param == "remote":
        server = _emptied(request.getfixturevalue("registry_server"))
        client = Client(server.url, settings=settings)
        found = RemoteFeatureRegistry(client)
    else:
        uri = (
            f"sqlite:///{tmp_path / 'loopml.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue("postgres_uri")
        )
        client = Client(uri, settings=settings, object_store_uri=str(tmp_path / "objects"))
        found = FeatureRegistry(client)
    yield found
    client.close()


def test_apply_registers_each_kind_as_version_one(registry: BaseFeatureRegistry) -> None:
    done = registry.apply(all_definitions())
    assert done == [
        ApplyResult("entity", "customer", 1, True),
        ApplyResult("feature_view", "stats", 1, True),
        ApplyResult("on_demand_feature_view", "net_amount", 1, True),
        ApplyResult("feature_service", "model_v1", 1, True),
    ]
    assert registry.entity("customer") == CUSTOMER
    assert registry.view("stats") == STATS
    assert registry.on_demand_view("net_amount") == net_amount
    assert registry.service("model_v1") == MODEL_V1
    assert [(r.kind, r.name, r.version) for r in registry.list()] == [
        ("entity", "customer", 1),
        ("feature_service", "model_v1", 1),
        ("feature_view", "stats", 1),
        ("on_demand_feature_view", "net_amount", 1),
    ]


def test_an_unchanged_apply_writes_nothing_and_a_change_is_the_next_version(
    registry: BaseFeatureRegistry,
) -> None:
    registry.apply(all_definitions())
    first = registry.record("view", "stats")
    again = registry.apply(all_definitions())
    assert [r.changed for r in again] == [False, False, False, False]
    assert registry.record("view", "stats") == first  # same digest, same time: not rewritten

    wider = stats_view(
        Field("amount", "float64"), Field("orders", "int64"), Field("city", "string")
    )
    assert registry.apply([wider]) == [ApplyResult("feature_view", "stats", 2, True)]
    assert registry.view("stats").features == ("amount", "orders", "city")
    assert registry.get("feature_view", "stats", version=1) == STATS
    assert [r.version for r in registry.history("feature_view", "stats")] == [1, 2]
    assert registry.record("feature_view", "stats", 2).digest != first.digest
    # Applying the old definition again is a change too: version 3, equal to version 1.
    assert registry.apply([STATS])[0].version == 3
    assert registry.record("view", "stats", 3).digest == first.digest


def test_a_type_change_is_refused_and_nothing_of_the_apply_is_written(
    registry: BaseFeatureRegistry,
) -> None:
    registry.apply(all_definitions())
    retyped = stats_view(Field("amount", "string"), Field("orders", "int64"))
    other = Entity("store", ("store_id",))
    with pytest.raises(InvalidArgument, match=r"stats:amount was float64 in version 1") as err:
        registry.apply([other, retyped])
    assert "rename the view or create stats_v2" in str(err.value)
    assert registry.find("entity", "store") is None
    # Dropping the feature then bringing it back with another type is refused as well.
    registry.apply([stats_view(Field("orders", "int64"))])
    with pytest.raises(InvalidArgument, match="stats:amount was float64"):
        registry.apply([retyped])
    # A new name is a new view: any types.
    assert registry.apply([replace(retyped, name="stats_v2")])[0] == ApplyResult(
        "feature_view", "stats_v2", 1, True
    )


def test_an_on_demand_views_type_change_is_refused(registry: BaseFeatureRegistry) -> None:
    registry.apply(all_definitions())
    retyped = replace(net_amount, schema=(Field("net", "int64"),))
    with pytest.raises(InvalidArgument, match="net_amount:net was float64"):
        registry.apply([retyped])


def test_references_to_unknown_definitions_are_refused_naming_them(
    registry: BaseFeatureRegistry,
) -> None:
    with pytest.raises(InvalidArgument, match="unknown entity 'customer'"):
        registry.apply([STATS])
    registry.apply([CUSTOMER, STATS])
    with pytest.raises(InvalidArgument, match=r"unknown feature view or on-demand .* 'missing'"):
        registry.apply([FeatureService("svc", (FeatureViewProjection("missing"),))])
    with pytest.raises(InvalidArgument, match=r"unknown feature stats:nope \('stats' has amount"):
        registry.apply([FeatureService("svc", (FeatureViewProjection("stats", ("nope",)),))])
    with pytest.raises(InvalidArgument, match="unknown feature view 'net_amount'"):
        registry.apply(
            [
                net_amount,
                replace(net_amount, name="twice", sources=(FeatureViewProjection("net_amount"),)),
            ]
        )
    with pytest.raises(InvalidArgument, match="only entities, feature views"):
        registry.apply(["stats"])  # type: ignore[list-item]
    assert registry.list("service") == []


def test_an_entity_embedded_in_a_view_must_match_the_registered_one(
    registry: BaseFeatureRegistry,
) -> None:
    registry.apply([CUSTOMER])
    moved = Entity("customer", ("customer_uuid",))
    view = replace(STATS, entities=(moved,))
    with pytest.raises(InvalidArgument, match=r"join keys \['customer_uuid'\].*\['customer_id'\]"):
        registry.apply([view])
    # Applied together, the entity's new version is what the view references.
    done = registry.apply([moved, view])
    assert [(r.kind, r.version) for r in done] == [("entity", 2), ("feature_view", 1)]
    assert registry.view("stats").join_keys == ("customer_uuid",)
    # Now a view uses it: its join keys are fixed, alone or with the view.
    for batch in ([CUSTOMER], [CUSTOMER, STATS]):
        with pytest.raises(InvalidArgument, match=r"feature view\(s\) stats use it") as err:
            registry.apply(batch)
        assert "create a new entity such as customer_v2" in str(err.value)
    assert registry.apply([replace(moved, description="renamed")])[0].version == 3


def test_views_and_on_demand_views_share_one_namespace(registry: BaseFeatureRegistry) -> None:
    registry.apply([CUSTOMER, STATS])
    clash = replace(net_amount, name="stats", sources=(FeatureViewProjection("stats"),))
    with pytest.raises(InvalidArgument, match="feature view named 'stats' exists already"):
        registry.apply([clash])


def test_two_different_definitions_of_one_name_in_a_batch_are_refused(
    registry: BaseFeatureRegistry,
) -> None:
    with pytest.raises(InvalidArgument, match="two different definitions of entity 'customer'"):
        registry.apply([CUSTOMER, Entity("customer", ("other",))])
    assert registry.apply([CUSTOMER, CUSTOMER]) == [ApplyResult("entity", "customer", 1, True)]


def test_lookups_say_what_is_missing(registry: BaseFeatureRegistry) -> None:
    with pytest.raises(NotFound, match=r"No feature view named 'stats'.*loopml features list"):
        registry.view("stats")
    registry.apply(all_definitions())
    with pytest.raises(NotFound, match="version 9"):
        registry.get("view", "stats", version=9)
    with pytest.raises(InvalidArgument, match="Unknown definition kind 'table'"):
        registry.list("table")
    assert registry.history("view", "nothing") == []
    assert registry.find("service", "nothing") is None
    assert [r.name for r in registry.list("entities")] == ["customer"]
    assert normalize_kind("On-Demand") == "on_demand_feature_view"


def test_feature_references_resolve_from_refs_services_and_objects(
    registry: BaseFeatureRegistry,
) -> None:
    registry.apply(all_definitions())
    assert registry.resolve_features("model_v1") == [
        FeatureRef("stats", "amount"),
        FeatureRef("net_amount", "net"),
    ]
    assert registry.resolve_features(["stats:orders", "net_amount:net", "stats:orders"]) == [
        FeatureRef("stats", "orders"),
        FeatureRef("net_amount", "net"),
    ]
    whole = FeatureService("all_stats", (STATS,))
    assert [r.ref for r in registry.resolve_features(whole)] == ["stats:amount", "stats:orders"]
    assert registry.resolve_features("stats:amount") == [FeatureRef("stats", "amount")]
    assert registry.resolve_view("net_amount") == net_amount
    with pytest.raises(NotFound, match="has no feature 'nope' \\(it has amount, orders\\)"):
        registry.resolve_features(["stats:nope"])
    with pytest.raises(NotFound, match="No feature view named 'other'"):
        registry.resolve_features(["other:x"])
    with pytest.raises(NotFound, match="feature service named 'nothing'"):
        registry.resolve_features("nothing")
    with pytest.raises(InvalidArgument, match="No features asked for"):
        registry.resolve_features([])
    for bad in ("a:b:c", ":x", "x:", 3):
        with pytest.raises(InvalidArgument, match="must be written 'view:feature'"):
            parse_ref(bad)


def test_materializations_tell_where_incremental_starts(registry: BaseFeatureRegistry) -> None:
    registry.apply([CUSTOMER, STATS])
    assert registry.last_materialized("stats") is None
    registry.record_materialization("stats", 0, 1_000, 10)
    registry.record_materialization("stats", 1_000, 5_000, 7)
    registry.record_materialization("stats", 0, 3_000, 12)  # a backfill finishing later
    assert registry.last_materialized("stats") == 5_000
    assert [(m.start_ms, m.end_ms, m.rows) for m in registry.materializations("stats")] == [
        (1_000, 5_000, 7),
        (0, 3_000, 12),
        (0, 1_000, 10),
    ]
    with pytest.raises(NotFound, match="No feature view named 'other'"):
        registry.record_materialization("other", 0, 1, 1)
    with pytest.raises(InvalidArgument, match="start_ms <= end_ms"):
        registry.record_materialization("stats", 10, 5, 1)
    with pytest.raises(InvalidArgument, match="end_ms"):
        registry.record_materialization("stats", 0, 1.5, 1)  # type: ignore[arg-type]


def test_concurrent_applies_number_versions_one_after_the_other(client: Client) -> None:
    registry = FeatureRegistry(client)
    registry.apply([CUSTOMER, STATS])
    errors: list[BaseException] = []

    def apply(i: int) -> None:
        try:
            FeatureRegistry(client).apply([stats_view(description=f"take {i}")])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.version for r in registry.history("view", "stats")] == [1, 2, 3, 4, 5]


def test_concurrent_applies_cannot_both_give_a_new_feature_its_type(client: Client) -> None:
    registry = FeatureRegistry(client)
    registry.apply([CUSTOMER, STATS])
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def apply(dtype: str) -> None:
        view = stats_view(Field("amount", "float64"), Field("city", dtype))
        start.wait()
        try:
            FeatureRegistry(client).apply([view])
            outcomes.append("applied")
        except InvalidArgument as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=apply, args=(t,)) for t in ("string", "int64")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("applied") == 1
    assert any("stats:city was" in outcome for outcome in outcomes)
    assert [r.version for r in registry.history("view", "stats")] == [1, 2]


def test_on_demand_views_keep_their_function_by_reference(registry: BaseFeatureRegistry) -> None:
    registry.apply(all_definitions())
    stored = registry.on_demand_view("net_amount")
    assert isinstance(stored, OnDemandFeatureView)
    assert stored.function == "feature_defs_support:net_amount"
    assert 'frame["net"]' in stored.source_code
    assert stored.resolve() is net_amount.resolve()
