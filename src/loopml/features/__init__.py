"""Feature store: feature views, point-in-time correct training sets, online serving.

::

    import loopml as lm
    from loopml.features import Entity, Field, FileSource, FeatureView, FeatureService

    customer = Entity("customer", join_keys=["customer_id"])
    stats = FeatureView("customer_stats", entities=[customer],
                        schema=[Field("trips", "int64"), Field("rating", "float64")],
                        source=FileSource("stats.parquet", timestamp_field="event_ts"),
                        ttl=timedelta(days=2))
    lm.features.apply([customer, stats, FeatureService("churn_v1", [stats])])

    training = lm.features.get_training_set(entity_df, ["customer_stats:trips"])
    training.to_pandas(); training.register("churn-training")     # a dataset version
    lm.features.materialize()                                      # latest values -> online store
    lm.features.get_online("churn_v1", [{"customer_id": 7}]).to_dict()

The concepts follow Feast. Joins run in DuckDB (ASOF, every entity row
returned); the online store is SQLite by default or Redis
(``LOOPML_FEATURES_ONLINE=redis://...``). ``loopml features
apply|list|show|materialize|check`` is the CLI; ``loopml serve
--feature-service NAME`` fetches features by entity key before predicting.

Names load on first use (PEP 562): the inference server imports the online
lookup modules without paying for DuckDB and the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.core.lazy import lazy_exports

if TYPE_CHECKING:
    from loopml.features._check import CheckResult, Mismatch
    from loopml.features._definitions import (
        DatasetSource,
        Entity,
        FeatureService,
        FeatureView,
        FeatureViewProjection,
        Field,
        FileSource,
        OnDemandFeatureView,
        SqlSource,
        on_demand_feature_view,
    )
    from loopml.features._fluent import (
        apply,
        check,
        default_store,
        get_online,
        get_training_set,
        materialize,
        materialize_incremental,
    )
    from loopml.features._lookup import OnlineResult
    from loopml.features._materialize import Materialized
    from loopml.features._online import OnlineStore, OnlineStoreUnavailable
    from loopml.features._online_open import open_online_store
    from loopml.features._registry_base import ApplyResult
    from loopml.features._repo import load_definitions
    from loopml.features._store import FeatureStore
    from loopml.features._training_set import TrainingSet

_EXPORTS: dict[str, str] = {
    "ApplyResult": "loopml.features._registry_base",
    "CheckResult": "loopml.features._check",
    "DatasetSource": "loopml.features._definitions",
    "Entity": "loopml.features._definitions",
    "FeatureService": "loopml.features._definitions",
    "FeatureStore": "loopml.features._store",
    "FeatureView": "loopml.features._definitions",
    "FeatureViewProjection": "loopml.features._definitions",
    "Field": "loopml.features._definitions",
    "FileSource": "loopml.features._definitions",
    "Materialized": "loopml.features._materialize",
    "Mismatch": "loopml.features._check",
    "OnDemandFeatureView": "loopml.features._definitions",
    "OnlineResult": "loopml.features._lookup",
    "OnlineStore": "loopml.features._online",
    "OnlineStoreUnavailable": "loopml.features._online",
    "SqlSource": "loopml.features._definitions",
    "TrainingSet": "loopml.features._training_set",
    "apply": "loopml.features._fluent",
    "check": "loopml.features._fluent",
    "default_store": "loopml.features._fluent",
    "get_online": "loopml.features._fluent",
    "get_training_set": "loopml.features._fluent",
    "load_definitions": "loopml.features._repo",
    "materialize": "loopml.features._fluent",
    "materialize_incremental": "loopml.features._fluent",
    "on_demand_feature_view": "loopml.features._definitions",
    "open_online_store": "loopml.features._online_open",
}

__all__ = [
    "ApplyResult",
    "CheckResult",
    "DatasetSource",
    "Entity",
    "FeatureService",
    "FeatureStore",
    "FeatureView",
    "FeatureViewProjection",
    "Field",
    "FileSource",
    "Materialized",
    "Mismatch",
    "OnDemandFeatureView",
    "OnlineResult",
    "OnlineStore",
    "OnlineStoreUnavailable",
    "SqlSource",
    "TrainingSet",
    "apply",
    "check",
    "default_store",
    "get_online",
    "get_training_set",
    "load_definitions",
    "materialize",
    "materialize_incremental",
    "on_demand_feature_view",
    "open_online_store",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
