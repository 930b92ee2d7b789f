"""Sources other than a Parquet file, training sets by reference, and registering one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.datasets import Datasets
from loopml.features._definitions import (
    DatasetSource,
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    SqlSource,
    on_demand_feature_view,
)
from loopml.features._historical import get_training_set
from loopml.features._offline import ViewRequest, join_views
from loopml.features._registry import FeatureRegistry
from loopml.features._training_set import FEATURES_TAG, SOURCES_TAG
from loopml.tracking import Client

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CUSTOMER = Entity("customer", ("customer_id",))
BASE = datetime(2024, 1, 1)
SCHEMA = (Field("spend", "float64"), Field("orders", "int64"))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    settings = Settings(home=tmp_path / "home", flush_interval_seconds=0.2)
    tracking = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )
    yield tracking
    tracking.close()


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "event_timestamp": [BASE, BASE + timedelta(hours=2), BASE],
            "spend": [10.0, 20.0, 5.0],
            "orders": [1, 2, 7],
        }
    )


ENTITIES = pd.DataFrame(
    {
        "customer_id": [1, 2, 1, 3],
        "event_timestamp": [BASE + timedelta(hours=1), BASE, BASE + timedelta(hours=3), BASE],
    }
)


def _values(frame: pd.DataFrame) -> list[Any]:
    return [None if pd.isna(v) else v for v in frame["spend"]]


def test_registered_dataset_source(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "stats.parquet"
    _rows().to_parquet(path)
    version = Datasets(client).register("stats-rows", path)
    view = FeatureView("stats", (CUSTOMER,), SCHEMA, DatasetSource("stats-rows", "event_timestamp"))
    result = join_views(ENTITIES, [ViewRequest(view)], client_factory=lambda: client)
    assert _values(result.to_pandas()) == [10.0, 5.0, 20.0, None]
    assert result.source_versions == {"stats": version.content_id}
    missing = FeatureView(
        "stats",
        (CUSTOMER,),
        (Field("gone", "float64"),),
        DatasetSource("stats-rows", "event_timestamp"),
    )
    with pytest.raises(InvalidArgument, match="no column 'gone'"):
        join_views(ENTITIES, [ViewRequest(missing)], client_factory=lambda: client)
    unknown = FeatureView("stats", (CUSTOMER,), SCHEMA, DatasetSource("nope", "event_timestamp"))
    with pytest.raises(NotFound):
        join_views(ENTITIES, [ViewRequest(unknown)], client_factory=lambda: client)


@pytest.fixture
def postgres_table() -> Iterator[str]:
    table = f"loopml_f2_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} (customer_id bigint, event_timestamp timestamptz, "
            "spend double precision, orders integer, note text)"
        )
        for row in _rows().itertuples(index=False):
            conn.execute(
                f"INSERT INTO {table} VALUES (%s, %s, %s, %s, 'x')",
                (row.customer_id, row.event_timestamp.replace(tzinfo=UTC), row.spend, row.orders),
            )
    try:
        yield table
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.mark.postgres
def test_sql_source_on_postgres(postgres_table: str) -> None:
    source = SqlSource(f"SELECT * FROM {postgres_table}", POSTGRES, "event_timestamp")
    view = FeatureView("stats", (CUSTOMER,), SCHEMA, source)
    result = join_views(ENTITIES, [ViewRequest(view)])
    frame = result.to_pandas()
    assert _values(frame) == [10.0, 5.0, 20.0, None]
    assert [None if pd.isna(v) else int(v) for v in frame["orders"]] == [1, 7, 2, None]
    digest = result.source_versions["stats"]
    assert len(digest) == 64 and join_views(ENTITIES, [ViewRequest(view)]).source_versions == {
        "stats": digest
    }
    empty = SqlSource(f"SELECT * FROM {postgres_table} WHERE false", POSTGRES, "event_timestamp")
    nothing = join_views(ENTITIES, [ViewRequest(FeatureView("s", (CUSTOMER,), SCHEMA, empty))])
    assert _values(nothing.to_pandas()) == [None] * 4
    wrong = FeatureView("stats", (CUSTOMER,), (Field("note", "float64"),), source)
    with pytest.raises(InvalidArgument, match="column 'note'"):
        join_views(ENTITIES, [ViewRequest(wrong)])
    broken = SqlSource(f"SELECT nope FROM {postgres_table}", POSTGRES, "event_timestamp")
    with pytest.raises(InvalidArgument, match="SQL source failed"):
        join_views(ENTITIES, [ViewRequest(FeatureView("s", (CUSTOMER,), SCHEMA, broken))])
    with pytest.raises(InvalidArgument, match="postgresql://"):
        bad_uri = SqlSource("SELECT 1", "mysql://h/db", "event_timestamp")
        join_views(ENTITIES, [ViewRequest(FeatureView("s", (CUSTOMER,), SCHEMA, bad_uri))])


def test_register_training_set_records_features_and_sources(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "stats.parquet"
    _rows().to_parquet(path)
    view = FeatureView("stats", (CUSTOMER,), SCHEMA, FileSource(str(path), "event_timestamp"))
    result = join_views(ENTITIES, [ViewRequest(view, ("spend",))], client_factory=lambda: client)
    version = result.register("training", description="first cut")
    assert version.rows == 4 and version.description == "first cut"
    assert json.loads(version.tags[FEATURES_TAG]) == ["stats:spend"]
    assert json.loads(version.tags[SOURCES_TAG]) == result.source_versions
    back = Datasets(client).read_frame(version)
    assert list(back.columns) == ["customer_id", "event_timestamp", "spend"]
    assert _values(back) == [10.0, 5.0, 20.0, None]
    again = join_views(ENTITIES, [ViewRequest(view, ("spend",))], client_factory=lambda: client)
    assert again.register("training").version == version.version  # same rows: same version
    path.write_bytes(b"")  # the source changed (and broke): a clear error, not stale data
    with pytest.raises(InvalidArgument, match="Cannot read the source of feature view 'stats'"):
        join_views(ENTITIES, [ViewRequest(view)])


@on_demand_feature_view(
    sources=[FeatureView("stats", (CUSTOMER,), SCHEMA, FileSource("x", "event_timestamp"))],
    request=[Field("discount", "float64")],
    schema=[Field("net", "float64")],
)
def net_spend(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"net": frame["spend"] * (1 - frame["discount"])})


def test_training_set_by_reference_with_a_service_and_on_demand_view(
    client: Client, tmp_path: Path
) -> None:
    path = tmp_path / "stats.parquet"
    _rows().to_parquet(path)
    view = FeatureView("stats", (CUSTOMER,), SCHEMA, FileSource(str(path), "event_timestamp"))
    service = FeatureService("model", (view[["orders"]], net_spend))
    registry = FeatureRegistry(client)
    registry.apply([CUSTOMER, view, net_spend, service])
    entities = ENTITIES.assign(discount=[0.5, 0.0, 0.1, 0.2])
    result = get_training_set(entities, "model", registry)
    frame = result.to_pandas()
    assert list(frame.columns) == ["customer_id", "event_timestamp", "discount", "orders", "net"]
    assert result.features == ["stats:orders", "net_spend:net"]
    assert frame["net"].tolist()[:3] == [5.0, 5.0, 18.0] and pd.isna(frame["net"].iloc[3])
    named = get_training_set(
        entities, ["stats:spend", "net_spend:net"], registry, full_feature_names=True
    )
    assert list(named.to_pandas().columns)[-2:] == ["stats__spend", "net_spend__net"]
    with pytest.raises(InvalidArgument, match="'discount'"):
        get_training_set(ENTITIES, "model", registry)
    with pytest.raises(InvalidArgument, match="no feature 'nothing'"):
        get_training_set(ENTITIES, ["stats:nothing"], registry)
    with pytest.raises(NotFound, match="'gone'"):
        get_training_set(ENTITIES, ["gone:spend"], registry)
