"""``FeatureRegistry``: the versioned feature definitions of one metadata database.

::

    registry = FeatureRegistry()                      # over loopml.tracking.get_client()
    registry.apply([customer, stats, model_v1])       # -> [ApplyResult(kind, name, version, ...)]
    registry.view("stats")                            # the newest FeatureView
    registry.get("feature_view", "stats", version=1)  # an older one
    registry.resolve_features(["stats:amount"])       # -> [FeatureRef("stats", "amount")]

Applying an unchanged definition writes nothing; a changed one becomes the
next version; a feature whose type changes is refused (rename the view or
create ``name_v2``). Materialisation records tell incremental
materialisation where to start. Against a server use ``open_registry``,
which returns a ``RemoteFeatureRegistry`` calling the same methods there.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from loopml.core.errors import InvalidArgument, NotFound
from loopml.features._apply import plan_apply
from loopml.features._definitions import Definition
from loopml.features._registry_base import ApplyResult, BaseFeatureRegistry, normalize_kind
from loopml.store import (
    FeatureMaterialization,
    FeatureRecord,
    FeatureStoreBackend,
    SqlFeatureStore,
    SqlTrackingStore,
)
from loopml.tracking import Client, get_client


class FeatureRegistry(BaseFeatureRegistry):
    """The feature definitions of one metadata store (embedded, or inside the server)."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client if client is not None else get_client()
        if not isinstance(self.client.store, SqlTrackingStore):
            raise InvalidArgument(
                "The feature registry runs beside the metadata database; against a server "
                "use loopml.features.open_registry(client), which talks to its API."
            )
        self.store: FeatureStoreBackend = SqlFeatureStore(self.client.store.db)

    def apply(self, definitions: Sequence[Definition] | Definition) -> builtins.list[ApplyResult]:
        batch = [definitions] if isinstance(definitions, Definition) else list(definitions)
        written = self.store.put_definitions(lambda: plan_apply(batch, self))
        return [
            ApplyResult(record.kind, record.name, record.version, changed)
            for record, changed in written
        ]

    def record(self, kind: str, name: str, version: int | None = None) -> FeatureRecord:
        return self.store.get_definition(normalize_kind(kind), name, version)

    def list(self, kind: str | None = None) -> builtins.list[FeatureRecord]:
        return self.store.list_definitions(None if kind is None else normalize_kind(kind))

    def history(self, kind: str, name: str) -> builtins.list[FeatureRecord]:
        try:
            return self.store.definition_versions(normalize_kind(kind), name)
        except NotFound:
            return []

    def record_materialization(
        self, view: str, start_ms: int, end_ms: int, rows: int
    ) -> FeatureMaterialization:
        self.view(view)  # NotFound says what to do
        return self.store.add_materialization(view, start_ms, end_ms, rows)

    def materializations(
        self, view: str, limit: int = 100
    ) -> builtins.list[FeatureMaterialization]:
        return self.store.list_materializations(view, limit)

    def last_materialized(self, view: str) -> int | None:
        return self.store.last_materialized(view)
