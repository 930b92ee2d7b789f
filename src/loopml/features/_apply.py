"""Checking one apply: duplicates, references, type changes; then what to write.

An apply is a batch of definitions. Before the store writes anything the
whole batch is checked against itself and against what is registered: each
referenced entity or view must be in the batch or registered (and an entity
object embedded in a view must match the registered one), feature views and
on-demand views share one namespace (``"view:feature"`` references must be
unambiguous), and a feature keeps its type across all versions of its view —
a model trained on ``stats:amount`` as float64 must not silently read
strings after a re-apply. For the same reason an entity used by a view keeps
its join keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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
from loopml.features._registry_base import VIEW_KINDS, BaseFeatureRegistry
from loopml.store import FEATURE_KINDS, NewFeatureDefinition

Find = Callable[[str, str], Definition | None]
ViewLike = FeatureView | OnDemandFeatureView


def spec_digest(spec: Mapping[str, Any]) -> str:
    """The sha256 of a spec's canonical JSON: equal digests, equal definitions."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _what(kind: str) -> str:
    return kind.replace("_", " ")


def kind_of(definition: object) -> str:
    """The kind a definition is filed under; InvalidArgument for anything else."""
    for kind, cls in DEFINITION_KINDS.items():
        if isinstance(definition, cls):
            return kind
    raise InvalidArgument(
        f"Cannot apply {type(definition).__name__} {definition!r:.80}: only entities, "
        "feature views, on-demand feature views and feature services are definitions."
    )


class _Batch:
    """The batch's definitions by kind and name, looked up before the registry."""

    def __init__(self, definitions: Sequence[Definition]) -> None:
        self.items: dict[tuple[str, str], Definition] = {}
        for definition in definitions:
            kind = kind_of(definition)
            key = (kind, definition.name)
            seen = self.items.get(key)
            if seen is not None and seen.spec() != definition.spec():
                raise InvalidArgument(
                    f"The apply holds two different definitions of {_what(kind)} "
                    f"{definition.name!r}: keep one."
                )
            self.items[key] = definition

    def ordered(self) -> list[tuple[str, Definition]]:
        """Referenced kinds first: entities, views, on-demand views, services."""
        return sorted(
            ((kind, d) for (kind, _), d in self.items.items()),
            key=lambda item: FEATURE_KINDS.index(item[0]),
        )


def _lookup(batch: _Batch, find: Find, kind: str, name: str) -> Definition | None:
    found = batch.items.get((kind, name))
    return found if found is not None else find(kind, name)


def _view(batch: _Batch, find: Find, name: str) -> ViewLike | None:
    for kind in VIEW_KINDS:
        found = _lookup(batch, find, kind, name)
        if isinstance(found, FeatureView | OnDemandFeatureView):
            return found
    return None


def _check_namespace(batch: _Batch, find: Find, kind: str, name: str) -> None:
    other = VIEW_KINDS[1] if kind == VIEW_KINDS[0] else VIEW_KINDS[0]
    if _lookup(batch, find, other, name) is not None:
        raise InvalidArgument(
            f"A {_what(other)} named {name!r} exists already; feature views and on-demand "
            "feature views share names (features are referenced 'view:feature'): rename one."
        )


def _check_entities(batch: _Batch, find: Find, view: FeatureView) -> None:
    for entity in view.entities:
        known = _lookup(batch, find, "entity", entity.name)
        if known is None:
            raise InvalidArgument(
                f"Feature view {view.name!r} references unknown entity {entity.name!r}: "
                "apply the entity in the same call or before."
            )
        if isinstance(known, Entity) and known.join_keys != entity.join_keys:
            raise InvalidArgument(
                f"Feature view {view.name!r} uses entity {entity.name!r} with join keys "
                f"{list(entity.join_keys)}, but the registered entity has "
                f"{list(known.join_keys)}: apply the entity with the view."
            )


def _check_projection(
    batch: _Batch, find: Find, owner: str, item: FeatureViewProjection, *, views_only: bool
) -> None:
    view = _view(batch, find, item.view)
    if view is None or (views_only and not isinstance(view, FeatureView)):
        what = "feature view" if views_only else "feature view or on-demand feature view"
        raise InvalidArgument(f"{owner} references unknown {what} {item.view!r}.")
    unknown = [f for f in item.features if f not in view.features]
    if unknown:
        raise InvalidArgument(
            f"{owner} references unknown feature {item.view}:{unknown[0]} "
            f"({item.view!r} has {', '.join(view.features)})."
        )


def _check_types(registry: BaseFeatureRegistry, kind: str, view: ViewLike) -> None:
    new = {f.name: f.dtype for f in view.schema}
    for record in registry.history(kind, view.name):
        for old in record.spec.get("schema", []):
            dtype = new.get(old.get("name"))
            if dtype is not None and dtype != old.get("dtype"):
                raise InvalidArgument(
                    f"Feature {view.name}:{old['name']} was {old['dtype']} in version "
                    f"{record.version}; changing its type to {dtype} is refused: rename the "
                    f"view or create {view.name}_v2."
                )


def _check_join_keys(registry: BaseFeatureRegistry, entity: Entity) -> None:
    known = registry.find("entity", entity.name)
    if not isinstance(known, Entity) or known.join_keys == entity.join_keys:
        return
    users = [
        r.name for r in registry.list("feature_view") if entity.name in r.spec.get("entities", [])
    ]
    if users:
        raise InvalidArgument(
            f"Entity {entity.name!r} has join keys {list(known.join_keys)} and feature view(s) "
            f"{', '.join(users)} use it: changing them to {list(entity.join_keys)} is refused "
            f"(their stored values are keyed by the old ones): create a new entity such as "
            f"{entity.name}_v2 and views on it."
        )


def plan_apply(
    definitions: Sequence[Definition], registry: BaseFeatureRegistry
) -> list[NewFeatureDefinition]:
    """Check a batch against itself and ``registry``; what to hand the store, referenced first.

    InvalidArgument names the first problem; nothing is written then.
    """
    find = registry.find
    batch = _Batch(definitions)
    planned: list[NewFeatureDefinition] = []
    for kind, definition in batch.ordered():
        if isinstance(definition, Entity):
            _check_join_keys(registry, definition)
        elif isinstance(definition, FeatureView):
            _check_namespace(batch, find, kind, definition.name)
            _check_entities(batch, find, definition)
            _check_types(registry, kind, definition)
        elif isinstance(definition, OnDemandFeatureView):
            _check_namespace(batch, find, kind, definition.name)
            owner = f"On-demand feature view {definition.name!r}"
            for item in definition.sources:
                _check_projection(batch, find, owner, item, views_only=True)
            _check_types(registry, kind, definition)
        elif isinstance(definition, FeatureService):
            owner = f"Feature service {definition.name!r}"
            for item in definition.features:
                _check_projection(batch, find, owner, item, views_only=False)
        spec = definition.spec()
        planned.append(NewFeatureDefinition(kind, definition.name, spec, spec_digest(spec)))
    return planned


def rebuild_batch(
    items: Sequence[tuple[str, str, Mapping[str, Any]]], registered_entity: Callable[[str], Entity]
) -> list[Definition]:
    """Definitions from (kind, name, spec) triples, as an apply over the API sends them.

    A feature view's entities are looked up in the batch first, then with
    ``registered_entity``; a missing one is refused naming it.
    """
    entities: dict[str, Entity] = {}
    for kind, name, spec in items:
        if kind == "entity":
            built = definition_from_spec(kind, name, spec, registered_entity)
            assert isinstance(built, Entity)
            entities[name] = built

    def rebuild(kind: str, name: str, spec: Mapping[str, Any]) -> Definition:
        def entity(entity_name: str) -> Entity:
            found = entities.get(entity_name)
            if found is not None:
                return found
            try:
                return registered_entity(entity_name)
            except NotFound as exc:
                raise InvalidArgument(
                    f"Feature view {name!r} references unknown entity {entity_name!r}: "
                    "apply the entity in the same call or before."
                ) from exc

        return definition_from_spec(kind, name, spec, entity)

    return [rebuild(kind, name, spec) for kind, name, spec in items]
