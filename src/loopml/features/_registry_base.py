"""What every feature registry offers, and the lookups written once over its primitives.

``BaseFeatureRegistry`` has a few abstract primitives (apply, one stored
version, the list, a definition's history, materialisation records); the
embedded ``FeatureRegistry`` implements them on the metadata database and
``RemoteFeatureRegistry`` on a server's API. Typed getters and feature
reference resolution are built on the primitives here, so both behave alike.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

from loopml.core.errors import InvalidArgument, NotFound
from loopml.features._definitions import (
    DEFINITION_KINDS,
    Definition,
    Entity,
    FeatureService,
    FeatureView,
    FeatureViewProjection,
    OnDemandFeatureView,
    definition_from_spec,
)
from loopml.store import FeatureMaterialization, FeatureRecord

D = TypeVar("D", Entity, FeatureView, OnDemandFeatureView, FeatureService)
VIEW_KINDS = ("feature_view", "on_demand_feature_view")
KIND_ALIASES = {
    "entity": "entity",
    "entities": "entity",
    "feature_view": "feature_view",
    "feature_views": "feature_view",
    "view": "feature_view",
    "views": "feature_view",
    "on_demand_feature_view": "on_demand_feature_view",
    "on_demand_feature_views": "on_demand_feature_view",
    "on_demand": "on_demand_feature_view",
    "odfv": "on_demand_feature_view",
    "feature_service": "feature_service",
    "feature_services": "feature_service",
    "service": "feature_service",
    "services": "feature_service",
}


def normalize_kind(kind: str) -> str:
    """A definition kind from its name or a short alias (``view``, ``service``, ``odfv``)."""
    found = KIND_ALIASES.get(str(kind).strip().lower().replace("-", "_"))
    if found is None:
        raise InvalidArgument(
            f"Unknown definition kind {kind!r:.40}: use one of {', '.join(DEFINITION_KINDS)} "
            "(or entity, view, odfv, service)."
        )
    return found


class ApplyResult(NamedTuple):
    """What applying one definition did: its version now, and whether it was written."""

    kind: str
    name: str
    version: int
    changed: bool


class FeatureRef(NamedTuple):
    """One feature of one view: ``"view:feature"``."""

    view: str
    feature: str

    @property
    def ref(self) -> str:
        return f"{self.view}:{self.feature}"


def parse_ref(text: object) -> FeatureRef:
    """``"view:feature"`` -> FeatureRef; InvalidArgument for anything else."""
    if isinstance(text, str):
        view, sep, feature = text.partition(":")
        if sep and view and feature and ":" not in feature:
            return FeatureRef(view, feature)
    raise InvalidArgument(f"Feature reference {text!r:.80} must be written 'view:feature'.")


def _typed(definition: Definition, cls: type[D], name: str) -> D:
    if not isinstance(definition, cls):  # pragma: no cover - stores key by kind
        raise NotFound(f"{name!r} is not a {cls.__name__}.")
    return definition


class BaseFeatureRegistry(abc.ABC):
    """Versioned feature definitions and materialisation records (embedded or remote)."""

    # -- primitives -------------------------------------------------------------------
    @abc.abstractmethod
    def apply(self, definitions: Sequence[Definition] | Definition) -> builtins.list[ApplyResult]:
        """Register definitions: new or changed ones as their next version, all or none.

        Referenced kinds come first in the result (entities, views, on-demand
        views, services); an unchanged definition keeps its version
        (``changed`` False). InvalidArgument, before anything is written, for
        a reference to an unknown entity, view or feature, a feature whose
        type differs from an earlier version ("rename the view or create
        name_v2"), or a name used by both a view and an on-demand view.
        """

    @abc.abstractmethod
    def record(self, kind: str, name: str, version: int | None = None) -> FeatureRecord:
        """The stored version (newest when None) with its spec and digest; NotFound."""

    @abc.abstractmethod
    def list(self, kind: str | None = None) -> builtins.list[FeatureRecord]:
        """The newest version of every definition (of one kind), by kind and name."""

    @abc.abstractmethod
    def history(self, kind: str, name: str) -> builtins.list[FeatureRecord]:
        """Every stored version of a definition, oldest first (empty when there is none)."""

    @abc.abstractmethod
    def record_materialization(
        self, view: str, start_ms: int, end_ms: int, rows: int
    ) -> FeatureMaterialization:
        """Record that ``view``'s rows with event times in ``[start_ms, end_ms)`` are online."""

    @abc.abstractmethod
    def materializations(
        self, view: str, limit: int = 100
    ) -> builtins.list[FeatureMaterialization]:
        """The view's materialisations, newest ``end_ms`` first."""

    def last_materialized(self, view: str) -> int | None:
        """Epoch ms up to which ``view`` was materialised, or None: where incremental starts."""
        done = self.materializations(view, limit=1)
        return done[0].end_ms if done else None

    # -- lookups built on them ----------------------------------------------------------
    def get(self, kind: str, name: str, version: int | None = None) -> Definition:
        """A definition (newest version when None) rebuilt from its spec; NotFound.

        A feature view's entities are their newest versions.
        """
        record = self.record(kind, name, version)
        return definition_from_spec(record.kind, record.name, record.spec, self.entity)

    def find(self, kind: str, name: str) -> Definition | None:
        """The newest version of a definition, or None when there is none."""
        try:
            return self.get(kind, name)
        except NotFound:
            return None

    def entity(self, name: str) -> Entity:
        return _typed(self.get("entity", name), Entity, name)

    def view(self, name: str) -> FeatureView:
        return _typed(self.get("feature_view", name), FeatureView, name)

    def on_demand_view(self, name: str) -> OnDemandFeatureView:
        return _typed(self.get("on_demand_feature_view", name), OnDemandFeatureView, name)

    def service(self, name: str) -> FeatureService:
        return _typed(self.get("feature_service", name), FeatureService, name)

    def resolve_view(self, name: str) -> FeatureView | OnDemandFeatureView:
        """The feature view or on-demand feature view named ``name`` (they share names)."""
        for kind in VIEW_KINDS:
            found = self.find(kind, name)
            if isinstance(found, FeatureView | OnDemandFeatureView):
                return found
        raise NotFound(
            f"No feature view named {name!r}: `loopml features list --kind view` shows them."
        )

    def resolve_features(
        self, features: str | FeatureService | Sequence[str]
    ) -> builtins.list[FeatureRef]:
        """The features asked for, in order without repeats, each checked to exist.

        ``features`` is a list of ``"view:feature"`` references, one such
        reference, a feature service's name, or a ``FeatureService`` (a part
        naming no features means all of that view's).
        """
        if isinstance(features, str) and ":" not in features:
            features = self.service(features)
        if isinstance(features, FeatureService):
            items: builtins.list[FeatureViewProjection] = builtins.list(features.features)
        elif isinstance(features, str):
            items = [_projection(features)]
        else:
            if not features:
                raise InvalidArgument("No features asked for: give 'view:feature' references.")
            items = [_projection(text) for text in features]
        refs: dict[FeatureRef, None] = {}
        for item in items:
            view = self.resolve_view(item.view)
            for feature in item.features or view.features:
                if feature not in view.features:
                    raise NotFound(
                        f"Feature view {view.name!r} has no feature {feature!r} "
                        f"(it has {', '.join(view.features)})."
                    )
                refs[FeatureRef(view.name, feature)] = None
        return builtins.list(refs)


def _projection(text: object) -> FeatureViewProjection:
    ref = parse_ref(text)
    return FeatureViewProjection(ref.view, (ref.feature,))
