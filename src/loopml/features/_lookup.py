"""Online lookups: feature references (or a feature service) and entity rows in, values out.

A lookup runs in two steps so serving pays for the first only once:

- ``plan_lookup`` resolves the references against the definitions: which
  views to read, by which join keys, which on-demand views to compute, what
  the output columns are called;
- ``get_online`` reads each view's rows for the entity keys (one store
  query per view), flags values older than the view's TTL as stale, runs the
  on-demand transformations, and returns an ``OnlineResult``.

Results are columnar (one list per feature, one entry per entity row, in
the order the rows came), which is what a model input and a JSON answer need.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from loopml.core.errors import InvalidArgument, NotFound
from loopml.features._definitions import (
    Definition,
    FeatureService,
    FeatureView,
    OnDemandFeatureView,
)
from loopml.features._online import OnlineStore

FULL_NAME_SEPARATOR = "__"
"""``view__feature``: the output name of a feature with ``full_feature_names``."""


class DefinitionSource(Protocol):
    """Where plans find definitions: the registry (``get(kind, name)``, NotFound if absent)."""

    def get(self, kind: str, name: str) -> Definition: ...


@dataclass(frozen=True, slots=True)
class ViewRead:
    """One feature view to read: its keys, the features to fetch, the ones to output."""

    view: str
    join_keys: tuple[str, ...]
    fetch: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]  # (feature, output name)
    ttl_ms: int | None


@dataclass(frozen=True, slots=True)
class OnDemandStep:
    """One on-demand view to compute from request fields and fetched features."""

    view: OnDemandFeatureView
    function: Callable[[Any], Any]
    inputs: tuple[tuple[str, str], ...]  # (source view, feature) passed by plain name
    outputs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class LookupPlan:
    """Everything a lookup needs, resolved once from the definitions."""

    features: tuple[str, ...]  # output names, in the requested order
    reads: tuple[ViewRead, ...]
    on_demand: tuple[OnDemandStep, ...]
    join_keys: tuple[str, ...]
    request_fields: tuple[str, ...]
    service: str | None = None


@dataclass(frozen=True, slots=True)
class OnlineResult:
    """Per feature, one value per entity row; its event time (None: no row) and staleness.

    ``stale[name][i]`` is True when the view has a TTL and the value is older
    than it at lookup time; on-demand features are stale when an input is.
    """

    features: tuple[str, ...]
    values: dict[str, list[Any]]
    event_ts_ms: dict[str, list[int | None]]
    stale: dict[str, list[bool]]
    rows: int = 0
    lookup_ms: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``POST /api/v1/features/online`` answers with."""
        return {
            "features": list(self.features),
            "values": self.values,
            "event_timestamps_ms": self.event_ts_ms,
            "stale": self.stale,
            "rows": self.rows,
        }

    def to_pandas(self) -> Any:
        """The values as a DataFrame (one column per feature)."""
        return pd.DataFrame({name: self.values[name] for name in self.features})


def parse_ref(ref: object) -> tuple[str, str]:
    """``"view:feature"`` -> ``(view, feature)``; InvalidArgument otherwise."""
    if not isinstance(ref, str) or ref.count(":") != 1 or ref.startswith(":") or ref.endswith(":"):
        raise InvalidArgument(
            f"Invalid feature reference {ref!r}: write 'view:feature' (e.g. 'customer_stats:age')."
        )
    view, _, feature = ref.partition(":")
    return view, feature


def plan_lookup(
    features: Sequence[str] | FeatureService | str,
    definitions: DefinitionSource,
    *,
    full_feature_names: bool = False,
) -> LookupPlan:
    """Resolve references (a list of ``view:feature``, a service, or a service's name)."""
    service_name: str | None = None
    if isinstance(features, str):
        service_name = features
        service = definitions.get("feature_service", features)
        if not isinstance(service, FeatureService):
            raise InvalidArgument(f"{features!r} is not a feature service.")
        features = service
    if isinstance(features, FeatureService):
        service_name = features.name
        wanted = _service_refs(features, definitions)
    else:
        if not features:
            raise InvalidArgument("Name at least one feature ('view:feature').")
        wanted = [parse_ref(ref) for ref in features]
    return _plan(wanted, definitions, full_feature_names, service_name)


def _service_refs(service: FeatureService, definitions: DefinitionSource) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    for projection in service.features:
        view = _view(projection.view, definitions)
        names = projection.features or view.features
        refs.extend((projection.view, name) for name in names)
    return refs


def _view(name: str, definitions: DefinitionSource) -> FeatureView | OnDemandFeatureView:
    try:
        found = definitions.get("feature_view", name)
    except NotFound:
        try:
            found = definitions.get("on_demand_feature_view", name)
        except NotFound:
            raise NotFound(
                f"No feature view or on-demand feature view named {name!r}: "
                "`loopml features list` shows the definitions."
            ) from None
    if not isinstance(found, FeatureView | OnDemandFeatureView):
        raise InvalidArgument(f"{name!r} is not a feature view.")
    return found


def _plan(
    wanted: list[tuple[str, str]],
    definitions: DefinitionSource,
    full_names: bool,
    service: str | None,
) -> LookupPlan:
    views: dict[str, FeatureView | OnDemandFeatureView] = {}
    outputs: dict[str, list[tuple[str, str]]] = {}
    names: list[str] = []
    for view_name, feature in wanted:
        view = views.get(view_name) or _view(view_name, definitions)
        views[view_name] = view
        if feature not in view.features:
            raise InvalidArgument(f"Feature view {view_name!r} has no feature {feature!r}.")
        out = f"{view_name}{FULL_NAME_SEPARATOR}{feature}" if full_names else feature
        if out in names:
            if (view_name, feature) in {(v, f) for v, fs in outputs.items() for f, _ in fs}:
                continue  # the same reference twice: once is enough
            raise InvalidArgument(
                f"Two features are both called {out!r}: ask for full feature names "
                "(full_feature_names=True gives 'view__feature')."
            )
        names.append(out)
        outputs.setdefault(view_name, []).append((feature, out))

    fetch: dict[str, list[str]] = {}
    steps: list[OnDemandStep] = []
    request: list[str] = []
    for view_name, view in list(views.items()):
        if isinstance(view, FeatureView):
            fetch.setdefault(view_name, [])
            fetch[view_name].extend(f for f, _ in outputs.get(view_name, []))
            continue
        inputs: list[tuple[str, str]] = []
        for source in view.sources:
            source_view = views.get(source.view) or _view(source.view, definitions)
            if not isinstance(source_view, FeatureView):
                raise InvalidArgument(
                    f"On-demand view {view_name!r} reads {source.view!r}, "
                    "which is not a feature view."
                )
            views.setdefault(source.view, source_view)
            needed = source.features or source_view.features
            inputs.extend((source.view, f) for f in needed)
            fetch.setdefault(source.view, []).extend(needed)
        request.extend(f.name for f in view.request if f.name not in request)
        steps.append(
            OnDemandStep(view, view.resolve(), tuple(inputs), tuple(outputs.get(view_name, [])))
        )

    reads: list[ViewRead] = []
    join_keys: list[str] = []
    for view_name, features in fetch.items():
        view = views[view_name]
        assert isinstance(view, FeatureView)
        join_keys.extend(k for k in view.join_keys if k not in join_keys)
        ttl = None if view.ttl is None else int(view.ttl.total_seconds() * 1000)
        reads.append(
            ViewRead(
                view_name,
                view.join_keys,
                tuple(dict.fromkeys(features)),
                tuple(outputs.get(view_name, [])),
                ttl,
            )
        )
    return LookupPlan(
        tuple(names), tuple(reads), tuple(steps), tuple(join_keys), tuple(request), service
    )


def entity_columns(
    entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
) -> dict[str, list[Any]]:
    """Entity rows (a list of ``{column: value}`` or a mapping of columns) as columns."""
    columns: dict[str, list[Any]]
    if isinstance(entity_rows, Mapping):
        columns = {str(k): _as_list(v) for k, v in entity_rows.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InvalidArgument(f"Entity columns have different lengths: {sorted(lengths)}.")
        return columns
    if isinstance(entity_rows, str | bytes) or not isinstance(entity_rows, Sequence):
        raise InvalidArgument("entity_rows must be a list of {join key: value} objects.")
    if not entity_rows:
        return {}
    first = entity_rows[0]
    if not isinstance(first, Mapping):
        raise InvalidArgument("entity_rows must be a list of {join key: value} objects.")
    names = list(first)
    if not names:
        raise InvalidArgument("Entity row 0 is empty: give the join keys of each entity.")
    columns = {name: [] for name in names}
    for index, row in enumerate(entity_rows):
        if not isinstance(row, Mapping):
            raise InvalidArgument(f"Entity row {index} is not an object.")
        for name in names:
            if name not in row:
                raise InvalidArgument(f"Entity row {index} has no {name!r} (row 0 has it).")
            columns[name].append(row[name])
    return columns


def get_online(
    plan: LookupPlan,
    online: OnlineStore,
    entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    request_data: Mapping[str, Any] | None = None,
    *,
    now_ms: int | None = None,
) -> OnlineResult:
    """Look up ``plan``'s features for each entity row (values null where none is stored).

    ``request_data`` adds request-time columns for on-demand views (they may
    also be given in the entity rows). A missing join key or request field is
    an InvalidArgument naming it; an unreachable store is OnlineStoreUnavailable.
    """
    started = time.perf_counter()
    columns = entity_columns(entity_rows)
    if request_data:
        columns.update(entity_columns(request_data))
    count = len(next(iter(columns.values()))) if columns else 0
    now = int(time.time() * 1000) if now_ms is None else now_ms
    values: dict[str, list[Any]] = {}
    stamps: dict[str, list[int | None]] = {}
    stale: dict[str, list[bool]] = {}
    fetched: dict[tuple[str, str], list[Any]] = {}
    view_stale: dict[str, list[bool]] = {}
    for read in plan.reads:
        keys = _keys(columns, read, count)
        rows = online.read(read.view, keys)  # whole rows: cheaper than picking per row
        events: list[int | None] = [None if r is None else r.event_ts_ms for r in rows]
        if read.ttl_ms is None:
            old = [False] * count
        else:
            limit = now - read.ttl_ms
            old = [e is not None and e < limit for e in events]
        view_stale[read.view] = old
        for feature in read.fetch:
            fetched[(read.view, feature)] = [
                None if r is None else r.values.get(feature) for r in rows
            ]
        for feature, out in read.outputs:
            values[out] = fetched[(read.view, feature)]
            stamps[out] = events
            stale[out] = old
    for step in plan.on_demand:
        _run_on_demand(step, columns, fetched, view_stale, count, values, stamps, stale)
    return OnlineResult(
        plan.features,
        {name: values[name] for name in plan.features},
        {name: stamps[name] for name in plan.features},
        {name: stale[name] for name in plan.features},
        count,
        (time.perf_counter() - started) * 1000.0,
    )


def _keys(columns: Mapping[str, list[Any]], read: ViewRead, count: int) -> list[tuple[Any, ...]]:
    if count == 0:
        return []
    try:
        parts = [columns[k] for k in read.join_keys]
    except KeyError as exc:
        raise InvalidArgument(
            f"The entity rows lack the join key {exc.args[0]!r} of feature view {read.view!r}."
        ) from None
    if len(parts) == 1:
        return [(v,) for v in parts[0]]
    return list(zip(*parts, strict=True))


def _run_on_demand(
    step: OnDemandStep,
    columns: Mapping[str, list[Any]],
    fetched: Mapping[tuple[str, str], list[Any]],
    view_stale: Mapping[str, list[bool]],
    count: int,
    values: dict[str, list[Any]],
    stamps: dict[str, list[int | None]],
    stale: dict[str, list[bool]],
) -> None:
    frame: dict[str, list[Any]] = {}
    for request_field in step.view.request:
        if request_field.name not in columns:
            raise InvalidArgument(
                f"On-demand view {step.view.name!r} needs the request field "
                f"{request_field.name!r}: send it in the entity rows or the request data."
            )
        frame[request_field.name] = columns[request_field.name]
    for view, feature in step.inputs:
        frame[feature] = fetched[(view, feature)]
    result = call_on_demand(step, pd.DataFrame(frame, index=range(count)))
    sources = {view for view, _ in step.inputs}
    old = [any(view_stale[v][i] for v in sources) for i in range(count)]
    nones: list[int | None] = [None] * count
    for feature, out in step.outputs:
        listed = _as_list(on_demand_output(step, result, feature, count))
        values[out] = [None if v != v else v for v in listed]  # NaN -> null
        stamps[out] = nones
        stale[out] = old


def call_on_demand(step: OnDemandStep, frame: pd.DataFrame) -> Any:
    """Run the user's transformation; whatever it raises becomes one clear error."""
    try:
        return step.function(frame)
    except Exception as exc:  # the user's function: report it, never a traceback
        raise InvalidArgument(
            f"On-demand view {step.view.name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc


def on_demand_output(step: OnDemandStep, result: Any, feature: str, count: int) -> Any:
    """One declared output column of a transformation's result, of the right length."""
    try:
        column = result[feature]
    except (KeyError, TypeError, IndexError):
        raise InvalidArgument(
            f"On-demand view {step.view.name!r} returned no column {feature!r}."
        ) from None
    if len(column) != count:
        raise InvalidArgument(
            f"On-demand view {step.view.name!r} returned {len(column)} rows for {count}."
        )
    return column


def _as_list(column: Any) -> list[Any]:
    tolist = getattr(column, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(column, str | bytes) or not isinstance(column, Sequence):
        raise InvalidArgument(f"Expected a column of values, got {column!r:.100}.")
    return list(column)
