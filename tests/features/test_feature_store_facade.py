"""The user's path through ``lm.features``: apply, training set, materialise, look up, check."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopml as lm
from loopml.core.errors import InvalidArgument
from loopml.features import (
    Entity,
    FeatureService,
    FeatureStore,
    FeatureView,
    Field,
    FileSource,
)

BASE = datetime(2024, 1, 1)


@pytest.fixture
def definitions(sdk: str, tmp_path: Path) -> list[object]:
    rows = []
    for customer in range(20):
        for day in range(5):
            rows.append(
                {
                    "customer_id": customer,
                    "event_ts": BASE + timedelta(days=day),
                    "trips": customer * 10 + day,
                    "rating": float(day) / 10,
                }
            )
    pd.DataFrame(rows).to_parquet(tmp_path / "stats.parquet")
    customer = Entity("customer", ("customer_id",))
    stats = FeatureView(
        "stats",
        (customer,),
        (Field("trips", "int64"), Field("rating", "float64")),
        FileSource(str(tmp_path / "stats.parquet"), "event_ts"),
        ttl=timedelta(days=2),
    )
    return [customer, stats, FeatureService("churn_v1", (stats,))]


def test_the_whole_path_through_lm_features(definitions: list[object]) -> None:
    results = lm.features.apply(definitions)
    assert {(r.kind, r.name, r.version) for r in results} >= {("feature_view", "stats", 1)}
    entities = pd.DataFrame(
        {
            "customer_id": [3, 3, 7, 99],
            "event_timestamp": [
                BASE + timedelta(days=2, hours=1),
                BASE - timedelta(days=1),  # before any feature row: nulls, row kept
                BASE + timedelta(days=10),  # beyond the TTL: nulls, row kept
                BASE + timedelta(days=1),  # unknown customer
            ],
        }
    )
    training = lm.features.get_training_set(entities, "churn_v1").to_pandas()
    assert len(training) == 4
    assert list(training["customer_id"]) == [3, 3, 7, 99]
    assert training["trips"].iloc[0] == 32
    assert training["trips"].iloc[1:].isna().all()
    done = lm.features.materialize(end=BASE + timedelta(days=4, hours=12))
    assert [(m.view, m.rows) for m in done] == [("stats", 20)]
    online = lm.features.get_online("churn_v1", [{"customer_id": 3}, {"customer_id": 99}])
    assert online.values["trips"] == [34, None]
    assert lm.features.check("stats", sample=10).ok


def test_a_store_of_its_own_and_bad_input(definitions: list[object], tmp_path: Path) -> None:
    with FeatureStore(online=f"sqlite:///{tmp_path / 'online.db'}") as store:
        store.apply(definitions)
        with pytest.raises(InvalidArgument, match="event_timestamp"):
            store.get_training_set(pd.DataFrame({"customer_id": [1]}), ["stats:trips"])
        store.materialize(end=BASE + timedelta(days=4, hours=12))
        result = store.get_online(["stats:rating"], [{"customer_id": 5}])
        assert result.values["rating"] == [pytest.approx(0.4)]
        assert np.isfinite(result.event_ts_ms["rating"][0])
    assert (tmp_path / "online.db").exists()
