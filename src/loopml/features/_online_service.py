"""``OnlineFeatures``: online lookups over one tracking client's definitions and online store.

It keeps each resolved ``LookupPlan`` for ``plan_ttl_seconds`` so a server
or a model answering many requests reads the definitions once in a while,
not per request, and still follows a re-applied definition without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.features._definitions import FeatureService
from loopml.features._lookup import (
    DefinitionSource,
    LookupPlan,
    OnlineResult,
    get_online,
    plan_lookup,
)
from loopml.features._online import OnlineStore
from loopml.features._online_open import open_online_store
from loopml.features._remote import open_registry
from loopml.tracking import Client, get_client

Features = Sequence[str] | FeatureService | str
"""``["view:feature", ...]``, a feature service, or a feature service's name."""


class OnlineFeatures:
    """Feature values for entity rows, from the online store, resolved by the registry."""

    def __init__(
        self,
        client: Client | None = None,
        *,
        online: OnlineStore | str | None = None,
        definitions: DefinitionSource | None = None,
        plan_ttl_seconds: float = 10.0,
    ) -> None:
        self.client = client if client is not None else get_client()
        self.definitions = definitions if definitions is not None else open_registry(self.client)
        self._owns_online = not isinstance(online, OnlineStore)
        self.online = (
            online
            if isinstance(online, OnlineStore)
            else open_online_store(online, settings=self.client.settings)
        )
        self._ttl = plan_ttl_seconds
        self._plans: dict[Hashable, tuple[float, LookupPlan]] = {}
        self._lock = threading.Lock()

    def plan(self, features: Features, *, full_feature_names: bool = False) -> LookupPlan:
        """The resolved plan of ``features`` (kept ``plan_ttl_seconds``)."""
        key = (_cache_key(features), full_feature_names)
        now = time.monotonic()
        held = self._plans.get(key)
        if held is not None and now - held[0] < self._ttl:
            return held[1]
        plan = plan_lookup(features, self.definitions, full_feature_names=full_feature_names)
        with self._lock:
            self._plans[key] = (now, plan)
        return plan

    def get_online(
        self,
        features: Features,
        entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
        request_data: Mapping[str, Any] | None = None,
        *,
        full_feature_names: bool = False,
    ) -> OnlineResult:
        """Each entity row's feature values, event timestamps and staleness (see ``get_online``)."""
        plan = self.plan(features, full_feature_names=full_feature_names)
        return get_online(plan, self.online, entity_rows, request_data)

    def close(self) -> None:
        """Close the online store when this object opened it."""
        if self._owns_online:
            self.online.close()


def _cache_key(features: Features) -> Hashable:
    if isinstance(features, str | FeatureService):
        return features
    if isinstance(features, Sequence) and all(isinstance(f, str) for f in features):
        return tuple(features)
    raise InvalidArgument(
        "features must be a list of 'view:feature' references, a feature service, "
        f"or a service's name, not {type(features).__name__}."
    )
