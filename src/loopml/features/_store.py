"""``FeatureStore``: the one object a user holds, over the registry, offline joins and online store.

Each capability lives in its own module (``_registry``/``_remote`` for
definitions, ``_historical`` for training sets, ``_materialize``, the online
store modules, ``_check``); this facade only wires them to one tracking
client and one online store, so ``lm.features.get_training_set(...)`` reads
like Feast's ``store.get_historical_features(...)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from loopml.features._check import CheckResult, check
from loopml.features._definitions import Definition, FeatureService
from loopml.features._historical import get_training_set
from loopml.features._lookup import OnlineResult
from loopml.features._materialize import (
    Materialized,
    materialize,
    materialize_incremental,
    registered_views,
)
from loopml.features._online import OnlineStore
from loopml.features._online_open import open_online_store
from loopml.features._online_remote import open_online_features
from loopml.features._registry_base import ApplyResult, BaseFeatureRegistry
from loopml.features._remote import open_registry
from loopml.features._training_set import TrainingSet
from loopml.tracking import Client, get_client

Features = Sequence[str] | FeatureService | str


class FeatureStore:
    """Definitions, training sets, materialisation and online lookups for one tracking client.

    ``online`` names the online store (``sqlite:///path``, ``redis://host:6379/0``)
    or is one; None uses ``LOOPML_FEATURES_ONLINE``, else SQLite under the
    loopml home.
    """

    def __init__(self, client: Client | None = None, online: OnlineStore | str | None = None):
        self.client = client if client is not None else get_client()
        self.registry: BaseFeatureRegistry = open_registry(self.client)
        self._online_spec = online
        self._online: OnlineStore | None = online if isinstance(online, OnlineStore) else None
        self._lookups: Any = None

    @property
    def online(self) -> OnlineStore:
        """The online store, opened on first use."""
        if self._online is None:
            spec = self._online_spec if isinstance(self._online_spec, str) else None
            self._online = open_online_store(spec, settings=self.client.settings)
        return self._online

    def apply(self, definitions: Sequence[Definition] | Definition) -> list[ApplyResult]:
        """Register or update definitions; unchanged ones keep their version."""
        return self.registry.apply(definitions)

    def get_training_set(
        self,
        entity_df: pd.DataFrame,
        features: Features,
        *,
        timestamp_column: str = "event_timestamp",
        full_feature_names: bool = False,
    ) -> TrainingSet:
        """Point-in-time correct features for every row of ``entity_df`` (none dropped)."""
        return get_training_set(
            entity_df,
            features,
            self.registry,
            timestamp_column=timestamp_column,
            full_feature_names=full_feature_names,
            client_factory=lambda: self.client,
        )

    def materialize(
        self,
        start: datetime | int | None = None,
        end: datetime | int | None = None,
        views: Sequence[str] | None = None,
    ) -> list[Materialized]:
        """Load each view's latest value per key with event time in ``[start, end)``."""
        return materialize(
            registered_views(self.registry, views),
            start,
            end,
            online=self.online,
            log=self.registry,
            client_factory=lambda: self.client,
        )

    def materialize_incremental(
        self, end: datetime | int | None = None, views: Sequence[str] | None = None
    ) -> list[Materialized]:
        """Load what arrived since each view's last materialisation, up to ``end`` (now)."""
        return materialize_incremental(
            registered_views(self.registry, views),
            end,
            online=self.online,
            log=self.registry,
            client_factory=lambda: self.client,
        )

    def get_online(
        self,
        features: Features,
        entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
        request_data: Mapping[str, Any] | None = None,
        *,
        full_feature_names: bool = False,
    ) -> OnlineResult:
        """Values, event times and staleness flags for each entity row, from the online store."""
        if self._lookups is None:
            online = self._online if self._online is not None else self._online_spec
            self._lookups = open_online_features(self.client, online=online)
        result: OnlineResult = self._lookups.get_online(
            features, entity_rows, request_data, full_feature_names=full_feature_names
        )
        return result

    def check(self, view: str, sample: int = 100, seed: int | None = None) -> CheckResult:
        """Compare a sample of the online values of ``view`` with the offline store's latest."""
        return check(
            view,
            registry=self.registry,
            online=self.online,
            sample=sample,
            seed=seed,
            client_factory=lambda: self.client,
        )

    def close(self) -> None:
        """Close what this store opened (the online store, the lookup service)."""
        if self._lookups is not None:
            self._lookups.close()
        if self._online is not None and not isinstance(self._online_spec, OnlineStore):
            self._online.close()

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
