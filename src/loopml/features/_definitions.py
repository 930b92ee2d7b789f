"""Feature definitions: entities, sources, feature views, on-demand views, services.

The concepts and names follow Feast, so its users recognise them:

- an ``Entity`` names the join keys that identify a row (``customer_id``);
- a source (``FileSource``, ``DatasetSource``, ``SqlSource``) says where the
  feature rows live and which column holds their event time;
- a ``FeatureView`` is a set of typed features of one entity read from one
  source, valid for ``ttl`` after their event time;
- an ``OnDemandFeatureView`` computes features at request time with a Python
  function of request data and other views' features;
- a ``FeatureService`` is the named set of features a model uses.

Definitions are plain frozen data: ``spec()`` gives the JSON-able form that the
metadata store versions and compares, ``definition_from_spec`` rebuilds one.
Feature references are written ``"view:feature"`` as in Feast.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from loopml.core.errors import InvalidArgument

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")

FEATURE_TYPES = frozenset(
    {"int32", "int64", "float32", "float64", "bool", "string", "bytes", "timestamp"}
)
"""The value types a feature may declare (Arrow's names for them)."""


def validate_name(name: object, what: str) -> str:
    """A definition or feature name: letters, digits, ``_`` and ``-``, not starting with a digit."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidArgument(
            f"Invalid {what} name {name!r}: use letters, digits, '_' and '-', "
            "starting with a letter or '_' (at most 128 characters)."
        )
    return name


@dataclass(frozen=True, slots=True)
class Field:
    """One typed column: a feature, or a request-time input of an on-demand view."""

    name: str
    dtype: str

    def __post_init__(self) -> None:
        validate_name(self.name, "feature")
        if self.dtype not in FEATURE_TYPES:
            raise InvalidArgument(
                f"Feature {self.name!r} has unknown type {self.dtype!r}: "
                f"use one of {', '.join(sorted(FEATURE_TYPES))}."
            )


@dataclass(frozen=True, slots=True)
class Entity:
    """What feature rows are about, and the columns that identify one (``join_keys``)."""

    name: str
    join_keys: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        validate_name(self.name, "entity")
        keys = (self.join_keys,) if isinstance(self.join_keys, str) else tuple(self.join_keys)
        if not keys:
            raise InvalidArgument(f"Entity {self.name!r} needs at least one join key.")
        for key in keys:
            validate_name(key, "join key")
        object.__setattr__(self, "join_keys", keys)

    kind = "entity"

    def spec(self) -> dict[str, Any]:
        return {"join_keys": list(self.join_keys), "description": self.description}


@dataclass(frozen=True, slots=True)
class FileSource:
    """Feature rows in a Parquet file or folder, or a CSV file (by its suffix).

    A relative ``path`` is resolved against the current directory when read.
    """

    path: str
    timestamp_field: str
    created_timestamp_column: str | None = None

    kind = "file"

    def spec(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "path": self.path,
            "timestamp_field": self.timestamp_field,
            "created_timestamp_column": self.created_timestamp_column,
        }


@dataclass(frozen=True, slots=True)
class DatasetSource:
    """Feature rows in a registered dataset version (``name`` or ``name@version``)."""

    dataset: str
    timestamp_field: str
    created_timestamp_column: str | None = None

    kind = "dataset"

    def spec(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "dataset": self.dataset,
            "timestamp_field": self.timestamp_field,
            "created_timestamp_column": self.created_timestamp_column,
        }


@dataclass(frozen=True, slots=True)
class SqlSource:
    """Feature rows from a SQL query on PostgreSQL (``uri`` is a SQLAlchemy/libpq URI)."""

    query: str
    uri: str
    timestamp_field: str
    created_timestamp_column: str | None = None

    kind = "sql"

    def spec(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "query": self.query,
            "uri": self.uri,
            "timestamp_field": self.timestamp_field,
            "created_timestamp_column": self.created_timestamp_column,
        }


Source = FileSource | DatasetSource | SqlSource


@dataclass(frozen=True, slots=True)
class FeatureView:
    """Typed features of one entity from one source, each valid ``ttl`` after its event time.

    ``ttl`` None means values never expire.
    """

    name: str
    entities: tuple[Entity, ...]
    schema: tuple[Field, ...]
    source: Source
    ttl: timedelta | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    kind = "feature_view"

    def __post_init__(self) -> None:
        validate_name(self.name, "feature view")
        entities = (self.entities,) if isinstance(self.entities, Entity) else tuple(self.entities)
        if not entities:
            raise InvalidArgument(f"Feature view {self.name!r} needs an entity.")
        schema = tuple(self.schema)
        if not schema:
            raise InvalidArgument(f"Feature view {self.name!r} declares no features.")
        names = [f.name for f in schema]
        if len(set(names)) != len(names):
            raise InvalidArgument(f"Feature view {self.name!r} declares a feature twice.")
        if self.ttl is not None and self.ttl <= timedelta(0):
            raise InvalidArgument(f"Feature view {self.name!r}: ttl must be positive or None.")
        object.__setattr__(self, "entities", entities)
        object.__setattr__(self, "schema", schema)
        object.__setattr__(self, "tags", dict(self.tags))

    @property
    def join_keys(self) -> tuple[str, ...]:
        return tuple(key for entity in self.entities for key in entity.join_keys)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema)

    def __getitem__(self, names: Sequence[str]) -> FeatureViewProjection:
        """``view[["a", "b"]]``: some of the view's features, for a feature service."""
        wanted = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in wanted if n not in self.features]
        if unknown:
            raise InvalidArgument(f"Feature view {self.name!r} has no feature {unknown[0]!r}.")
        return FeatureViewProjection(self.name, tuple(wanted))

    def spec(self) -> dict[str, Any]:
        return {
            "entities": [e.name for e in self.entities],
            "schema": [{"name": f.name, "dtype": f.dtype} for f in self.schema],
            "source": self.source.spec(),
            "ttl_seconds": None if self.ttl is None else self.ttl.total_seconds(),
            "description": self.description,
            "tags": dict(self.tags),
        }


@dataclass(frozen=True, slots=True)
class FeatureViewProjection:
    """Some (or all, when ``features`` is empty) features of a named view."""

    view: str
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OnDemandFeatureView:
    """Features computed at request time: ``function(frame) -> frame``.

    The function receives one DataFrame holding the ``request`` fields and the
    features of the ``sources`` views (by plain feature name) and returns a
    DataFrame with the ``schema`` columns. It is stored by reference
    (``module:qualname``) with its source text for display, never pickled: a
    process that computes it must be able to import the module.
    """

    name: str
    sources: tuple[FeatureViewProjection, ...]
    request: tuple[Field, ...]
    schema: tuple[Field, ...]
    function: str
    source_code: str = ""
    description: str = ""
    udf: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)
    """The function itself when this process defined it (never stored)."""

    kind = "on_demand_feature_view"

    def __post_init__(self) -> None:
        validate_name(self.name, "on-demand feature view")
        if not self.schema:
            raise InvalidArgument(f"On-demand feature view {self.name!r} declares no features.")
        module, _, qualname = self.function.partition(":")
        if not module or not qualname:
            raise InvalidArgument(
                f"On-demand feature view {self.name!r}: function must be 'module:qualname', "
                f"got {self.function!r}."
            )
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "request", tuple(self.request))
        object.__setattr__(self, "schema", tuple(self.schema))

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema)

    def resolve(self) -> Callable[[Any], Any]:
        """The transformation: the function itself, or imported by reference.

        The decorator replaces the module's function with the view, so an
        imported view stands for its function. A clear error when this process
        cannot import it.
        """
        if self.udf is not None:
            return self.udf
        module_name, _, qualname = self.function.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as exc:
            raise InvalidArgument(
                f"On-demand feature view {self.name!r}: cannot import {self.function!r} "
                f"({exc}). Put its module on PYTHONPATH of this process."
            ) from exc
        if isinstance(target, OnDemandFeatureView) and target.udf is not None:
            target = target.udf
        if not callable(target):
            raise InvalidArgument(
                f"On-demand feature view {self.name!r}: {self.function!r} is not callable."
            )
        return target

    def spec(self) -> dict[str, Any]:
        return {
            "sources": [{"view": s.view, "features": list(s.features)} for s in self.sources],
            "request": [{"name": f.name, "dtype": f.dtype} for f in self.request],
            "schema": [{"name": f.name, "dtype": f.dtype} for f in self.schema],
            "function": self.function,
            "source_code": self.source_code,
            "description": self.description,
        }


def on_demand_feature_view(
    *,
    sources: Sequence[FeatureView | FeatureViewProjection],
    schema: Sequence[Field],
    request: Sequence[Field] = (),
    name: str | None = None,
    description: str = "",
) -> Callable[[Callable[[Any], Any]], OnDemandFeatureView]:
    """Decorator: ``@on_demand_feature_view(sources=[view], schema=[Field(...)])`` on a function."""

    def wrap(function: Callable[[Any], Any]) -> OnDemandFeatureView:
        try:
            code = inspect.getsource(function)
        except (OSError, TypeError):
            code = ""
        projections = tuple(
            FeatureViewProjection(s.name) if isinstance(s, FeatureView) else s for s in sources
        )
        return OnDemandFeatureView(
            name=name or function.__name__,
            sources=projections,
            request=tuple(request),
            schema=tuple(schema),
            function=f"{function.__module__}:{function.__qualname__}",
            source_code=code,
            description=description,
            udf=function,
        )

    return wrap


@dataclass(frozen=True, slots=True)
class FeatureService:
    """The named set of features a model uses: views (or parts of them) and on-demand views."""

    name: str
    features: tuple[FeatureViewProjection, ...]
    description: str = ""

    kind = "feature_service"

    def __post_init__(self) -> None:
        validate_name(self.name, "feature service")
        items = tuple(
            FeatureViewProjection(f.name) if isinstance(f, FeatureView | OnDemandFeatureView) else f
            for f in self.features
        )
        if not items:
            raise InvalidArgument(f"Feature service {self.name!r} names no features.")
        object.__setattr__(self, "features", items)

    def spec(self) -> dict[str, Any]:
        return {
            "features": [{"view": p.view, "features": list(p.features)} for p in self.features],
            "description": self.description,
        }


Definition = Entity | FeatureView | OnDemandFeatureView | FeatureService


DEFINITION_KINDS: dict[str, type[Entity | FeatureView | OnDemandFeatureView | FeatureService]] = {
    "entity": Entity,
    "feature_view": FeatureView,
    "on_demand_feature_view": OnDemandFeatureView,
    "feature_service": FeatureService,
}
"""Each definition class by the ``kind`` the metadata store files it under."""


def _fields(items: Any, where: str) -> tuple[Field, ...]:
    if not isinstance(items, list):
        raise InvalidArgument(f"{where}: expected a list of fields, got {items!r:.80}.")
    try:
        return tuple(Field(str(item["name"]), str(item["dtype"])) for item in items)
    except (KeyError, TypeError) as exc:
        raise InvalidArgument(f"{where}: each field needs a name and a dtype.") from exc


def _projections(items: Any, where: str) -> tuple[FeatureViewProjection, ...]:
    if not isinstance(items, list):
        raise InvalidArgument(f"{where}: expected a list of views, got {items!r:.80}.")
    try:
        return tuple(
            FeatureViewProjection(str(item["view"]), tuple(str(f) for f in item["features"]))
            for item in items
        )
    except (KeyError, TypeError) as exc:
        raise InvalidArgument(f"{where}: each item needs a view and its features.") from exc


def source_from_spec(spec: Mapping[str, Any], where: str = "source") -> Source:
    """Rebuild a source from its ``spec()``."""
    kind = spec.get("type")
    created = spec.get("created_timestamp_column")
    try:
        if kind == FileSource.kind:
            return FileSource(str(spec["path"]), str(spec["timestamp_field"]), created)
        if kind == DatasetSource.kind:
            return DatasetSource(str(spec["dataset"]), str(spec["timestamp_field"]), created)
        if kind == SqlSource.kind:
            return SqlSource(
                str(spec["query"]), str(spec["uri"]), str(spec["timestamp_field"]), created
            )
    except KeyError as exc:
        raise InvalidArgument(f"{where}: a {kind} source needs {exc.args[0]!r}.") from exc
    raise InvalidArgument(f"{where}: unknown source type {kind!r} (file, dataset or sql).")


def definition_from_spec(
    kind: str,
    name: str,
    spec: Mapping[str, Any],
    lookup_entity: Callable[[str], Entity],
) -> Definition:
    """Rebuild a definition from its ``spec()``: the inverse of ``spec``.

    A feature view's spec names its entities; ``lookup_entity`` turns a name
    into the ``Entity`` (from the registry, or from the same apply). Bad specs
    raise InvalidArgument, never KeyError.
    """
    where = f"{kind.replace('_', ' ')} {name!r}"
    if not isinstance(spec, Mapping):
        raise InvalidArgument(f"{where}: the spec must be an object, got {spec!r:.80}.")
    try:
        if kind == "entity":
            return Entity(name, tuple(spec["join_keys"]), str(spec.get("description", "")))
        if kind == "feature_view":
            ttl = spec.get("ttl_seconds")
            return FeatureView(
                name=name,
                entities=tuple(lookup_entity(str(e)) for e in spec["entities"]),
                schema=_fields(spec["schema"], where),
                source=source_from_spec(spec["source"], where),
                ttl=None if ttl is None else timedelta(seconds=float(ttl)),
                description=str(spec.get("description", "")),
                tags={str(k): str(v) for k, v in dict(spec.get("tags") or {}).items()},
            )
        if kind == "on_demand_feature_view":
            return OnDemandFeatureView(
                name=name,
                sources=_projections(spec["sources"], where),
                request=_fields(spec.get("request", []), where),
                schema=_fields(spec["schema"], where),
                function=str(spec["function"]),
                source_code=str(spec.get("source_code", "")),
                description=str(spec.get("description", "")),
            )
        if kind == "feature_service":
            return FeatureService(
                name=name,
                features=_projections(spec["features"], where),
                description=str(spec.get("description", "")),
            )
    except KeyError as exc:
        raise InvalidArgument(f"{where}: the spec has no {exc.args[0]!r}.") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{where}: malformed spec ({exc}).") from exc
    raise InvalidArgument(
        f"Unknown definition kind {kind!r}: use one of {', '.join(DEFINITION_KINDS)}."
    )
