"""Definitions and online rows shared by the online lookup, REST and serving tests.

The on-demand transformation lives here so that a server started as a
subprocess can import it (its PYTHONPATH gets this folder).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.features._definitions import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    on_demand_feature_view,
)
from loopml.features._online import OnlineStore

HERE = Path(__file__).parent
HOUR_MS = 3_600_000

customer = Entity("customer", ("customer_id",))
stats = FeatureView(
    name="stats",
    entities=(customer,),
    schema=(Field("spend", "float64"), Field("orders", "int64"), Field("tier", "string")),
    source=FileSource("stats.parquet", "event_timestamp"),
    ttl=timedelta(hours=1),
)
profile = FeatureView(
    name="profile",
    entities=(customer,),
    schema=(Field("age", "int64"), Field("spend", "float64")),
    source=FileSource("profile.parquet", "event_timestamp"),
)


@on_demand_feature_view(
    sources=[stats[["spend"]]],
    request=[Field("amount", "float64")],
    schema=[Field("amount_ratio", "float64")],
)
def ratios(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"amount_ratio": frame["amount"] / frame["spend"]})


model_service = FeatureService("model_v1", (stats[["spend", "orders"]], profile[["age"]]))
ratio_service = FeatureService("with_ratio", (stats[["spend"]], ratios))

DEFINITIONS: list[Any] = [customer, stats, profile, ratios, model_service, ratio_service]


def write_rows(online: OnlineStore, now_ms: int) -> None:
    """Customers 1 and 2 fresh, 3 stale (two hours old); profile for 1 and 3; nothing for 4."""
    online.write(
        "stats",
        [(1,), (2,), (3,)],
        {"spend": [10.0, 20.0, 30.0], "orders": [1, 2, 3], "tier": ["a", "b", "c"]},
        [now_ms - 1000, now_ms - 2000, now_ms - 2 * HOUR_MS],
    )
    online.write("profile", [(1,), (3,)], {"age": [41, 33], "spend": [-1.0, -3.0]}, [5, 7])
