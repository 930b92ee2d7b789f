"""Definitions rebuild from their specs exactly; malformed specs are clear errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from feature_defs_support import CUSTOMER, MODEL_V1, STATS, net_amount
from hypothesis import given
from hypothesis import strategies as st

from loopml.core.errors import InvalidArgument
from loopml.features._apply import spec_digest
from loopml.features._definitions import (
    FEATURE_TYPES,
    DatasetSource,
    Definition,
    Entity,
    FeatureView,
    Field,
    SqlSource,
    definition_from_spec,
    source_from_spec,
)

KINDS = {
    "entity": CUSTOMER,
    "feature_view": STATS,
    "on_demand_feature_view": net_amount,
    "feature_service": MODEL_V1,
}


def _entity(name: str) -> Entity:
    if name != CUSTOMER.name:
        raise InvalidArgument(f"unknown entity {name!r}")
    return CUSTOMER


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_rebuilds_from_its_spec(kind: str) -> None:
    original: Definition = KINDS[kind]
    rebuilt = definition_from_spec(kind, original.name, original.spec(), _entity)
    assert rebuilt == original
    assert rebuilt.spec() == original.spec()


def test_a_rebuilt_on_demand_view_finds_its_function_by_reference() -> None:
    rebuilt = definition_from_spec(
        "on_demand_feature_view", "net_amount", net_amount.spec(), _entity
    )
    assert isinstance(rebuilt, type(net_amount))
    assert rebuilt.udf is None
    assert rebuilt.resolve() is net_amount.resolve()


@pytest.mark.parametrize(
    "source",
    [
        DatasetSource("events@3", "ts", None),
        SqlSource("select * from t", "postgresql://h/db", "ts", "created"),
    ],
)
def test_every_source_type_rebuilds(source: Any) -> None:
    assert source_from_spec(source.spec()) == source


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("entity", {}, "has no 'join_keys'"),
        ("entity", "keys", "must be an object"),
        ("entity", {"join_keys": []}, "needs at least one join key"),
        ("feature_view", {**STATS.spec(), "schema": "amount"}, "expected a list of fields"),
        ("feature_view", {**STATS.spec(), "schema": [{"name": "a"}]}, "name and a dtype"),
        (
            "feature_view",
            {**STATS.spec(), "schema": [{"name": "a", "dtype": "u8"}]},
            "unknown type",
        ),
        ("feature_view", {**STATS.spec(), "source": {"type": "ftp"}}, "unknown source type 'ftp'"),
        ("feature_view", {**STATS.spec(), "source": {"type": "file"}}, "needs 'path'"),
        ("feature_view", {**STATS.spec(), "ttl_seconds": "soon"}, "malformed spec"),
        ("feature_view", {**STATS.spec(), "entities": ["store"]}, "unknown entity 'store'"),
        ("feature_service", {"features": [{"view": "s"}]}, "each item needs a view"),
        ("on_demand_feature_view", {**net_amount.spec(), "function": "nocolon"}, "module:qualname"),
        ("table", {}, "Unknown definition kind 'table'"),
    ],
)
def test_malformed_specs_are_invalid_arguments(kind: str, spec: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        definition_from_spec(kind, "x", spec, _entity)


def test_a_bad_name_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="Invalid feature view name '1st'"):
        definition_from_spec("feature_view", "1st", STATS.spec(), _entity)


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@given(
    name=NAMES,
    fields=st.dictionaries(NAMES, st.sampled_from(sorted(FEATURE_TYPES)), min_size=1, max_size=6),
    ttl=st.none() | st.integers(min_value=1, max_value=10**9),
    tags=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    description=st.text(max_size=20),
)
def test_any_feature_view_round_trips_with_the_same_digest(
    name: str, fields: dict[str, str], ttl: int | None, tags: dict[str, str], description: str
) -> None:
    view = FeatureView(
        name=name,
        entities=(CUSTOMER,),
        schema=tuple(Field(n, t) for n, t in fields.items()),
        source=STATS.source,
        ttl=None if ttl is None else timedelta(seconds=ttl),
        description=description,
        tags=tags,
    )
    rebuilt = definition_from_spec("feature_view", name, view.spec(), _entity)
    assert rebuilt == view
    assert spec_digest(rebuilt.spec()) == spec_digest(view.spec())
