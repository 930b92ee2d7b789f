"""``lm.features.*``: the feature store calls of the fluent SDK, on its tracking client.

The store follows ``lm.set_tracking_uri``: it is rebuilt when the SDK's
client changes, like the rest of the fluent SDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from loopml.features._check import CheckResult
from loopml.features._definitions import Definition
from loopml.features._lookup import OnlineResult
from loopml.features._materialize import Materialized
from loopml.features._registry_base import ApplyResult
from loopml.features._store import Features, FeatureStore
from loopml.features._training_set import TrainingSet
from loopml.tracking import get_client

_default: FeatureStore | None = None


def default_store() -> FeatureStore:
    """The SDK's feature store (default online store), over the SDK's current client."""
    global _default
    client = get_client()
    if _default is None or _default.client is not client:
        _default = FeatureStore(client)
    return _default


def apply(definitions: Sequence[Definition] | Definition) -> list[ApplyResult]:
    """Register or update definitions (see ``FeatureStore.apply``)."""
    return default_store().apply(definitions)


def get_training_set(
    entity_df: pd.DataFrame,
    features: Features,
    *,
    timestamp_column: str = "event_timestamp",
    full_feature_names: bool = False,
) -> TrainingSet:
    """Point-in-time correct features for every entity row (see ``FeatureStore``)."""
    return default_store().get_training_set(
        entity_df,
        features,
        timestamp_column=timestamp_column,
        full_feature_names=full_feature_names,
    )


def materialize(
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    views: Sequence[str] | None = None,
) -> list[Materialized]:
    """Load the latest values per key into the online store (see ``FeatureStore``)."""
    return default_store().materialize(start, end, views)


def materialize_incremental(
    end: datetime | int | None = None, views: Sequence[str] | None = None
) -> list[Materialized]:
    """Load what arrived since the last materialisation (see ``FeatureStore``)."""
    return default_store().materialize_incremental(end, views)


def get_online(
    features: Features,
    entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    request_data: Mapping[str, Any] | None = None,
    *,
    full_feature_names: bool = False,
) -> OnlineResult:
    """Online feature values for entity rows (see ``FeatureStore.get_online``)."""
    return default_store().get_online(
        features, entity_rows, request_data, full_feature_names=full_feature_names
    )


def check(view: str, sample: int = 100, seed: int | None = None) -> CheckResult:
    """Online versus offline consistency of ``view`` (see ``FeatureStore.check``)."""
    return default_store().check(view, sample, seed)
