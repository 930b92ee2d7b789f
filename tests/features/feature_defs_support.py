"""Definitions the registry, CLI and REST tests apply: an entity, two views, an ODFV, a service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from loopml.features._definitions import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    OnDemandFeatureView,
    on_demand_feature_view,
)

CUSTOMER = Entity("customer", ("customer_id",), description="A paying customer.")


def stats_view(
    *fields: Field, name: str = "stats", description: str = "", ttl_days: float | None = 2
) -> FeatureView:
    return FeatureView(
        name=name,
        entities=(CUSTOMER,),
        schema=fields or (Field("amount", "float64"), Field("orders", "int64")),
        source=FileSource("data/stats.parquet", "event_timestamp", "created"),
        ttl=None if ttl_days is None else timedelta(days=ttl_days),
        description=description,
        tags={"team": "risk"},
    )


STATS = stats_view()


@on_demand_feature_view(
    sources=[STATS], request=[Field("discount", "float64")], schema=[Field("net", "float64")]
)
def net_amount(frame: Any) -> Any:
    frame["net"] = frame["amount"] * (1 - frame["discount"])
    return frame[["net"]]


MODEL_V1 = FeatureService("model_v1", (STATS[["amount"]], net_amount), description="v1")


def all_definitions() -> list[Any]:
    return [CUSTOMER, STATS, net_amount, MODEL_V1]


def odfv() -> OnDemandFeatureView:
    return net_amount
