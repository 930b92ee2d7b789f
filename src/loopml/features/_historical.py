"""Training sets by feature reference: ``view:feature`` names or a feature service.

References are resolved exactly as online lookups resolve them (the same
``plan_lookup``), so a model sees the same columns, with the same names, in
training and in serving. The views' features are joined point in time by
``_offline``; on-demand views are then computed over the whole frame, from
the entity frame's request columns and their source features.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidArgument
from loopml.features._definitions import FeatureService, FeatureView
from loopml.features._entity_frame import RESERVED_PREFIX, entity_table
from loopml.features._lookup import (
    DefinitionSource,
    LookupPlan,
    OnDemandStep,
    call_on_demand,
    on_demand_output,
    plan_lookup,
)
from loopml.features._offline import ViewRequest, join_table
from loopml.features._training_set import TrainingSet

if TYPE_CHECKING:
    import pyarrow as pa

    from loopml.tracking import Client

_INPUT = f"{RESERVED_PREFIX}_input"


def get_training_set(
    entity_df: Any,
    features: Sequence[str] | FeatureService | str,
    definitions: DefinitionSource,
    *,
    timestamp_column: str = "event_timestamp",
    full_feature_names: bool = False,
    client_factory: Callable[[], Client] | None = None,
) -> TrainingSet:
    """Every row of ``entity_df``, in order, with the point-in-time values of ``features``.

    ``features`` is a list of ``"view:feature"``, a feature service or its
    name. Feature columns follow the entity columns in the requested order,
    named by feature (``view__feature`` with ``full_feature_names``).
    InvalidArgument for a missing join key, timestamp column or request field,
    mixed aware/naive timestamps, or a source that no longer matches its view.
    """
    plan = plan_lookup(features, definitions, full_feature_names=full_feature_names)
    views = {read.view: definitions.get("feature_view", read.view) for read in plan.reads}
    requests = [ViewRequest(_feature_view(views[read.view]), read.fetch) for read in plan.reads]
    table = entity_table(entity_df, timestamp_column, plan.join_keys)
    _check_names(plan, table.column_names)
    outputs = _fetch_names(plan)
    joined, versions = (
        join_table(table, timestamp_column, requests, outputs, client_factory)
        if requests
        else (table, {})  # only on-demand views of request data: nothing to join
    )
    joined = _run_on_demand(plan, joined, table.column_names)
    ordered = list(table.column_names) + list(plan.features)
    refs = _refs(plan)
    return TrainingSet(
        joined.select(ordered),
        [refs[name] for name in plan.features],
        versions,
        client_factory=client_factory,
    )


def _feature_view(definition: object) -> FeatureView:
    if not isinstance(definition, FeatureView):
        raise InvalidArgument(f"{definition!r} is not a feature view.")
    return definition


def _check_names(plan: LookupPlan, entity_columns: Sequence[str]) -> None:
    clash = [name for name in plan.features if name in entity_columns]
    if clash:
        raise InvalidArgument(
            f"Feature column {clash[0]!r} collides with an entity_df column: pass "
            "full_feature_names=True or rename the column."
        )
    missing = [f for f in plan.request_fields if f not in entity_columns]
    if missing:
        raise InvalidArgument(
            f"entity_df has no column {missing[0]!r}, a request field of an on-demand view."
        )


def _fetch_names(plan: LookupPlan) -> list[list[str]]:
    """Each read's column names: its output name, or an internal one for an input only."""
    names = []
    for read in plan.reads:
        out = dict(read.outputs)
        names.append([out.get(f, f"{_INPUT}__{read.view}__{f}") for f in read.fetch])
    return names


def _refs(plan: LookupPlan) -> dict[str, str]:
    refs = {out: f"{read.view}:{feature}" for read in plan.reads for feature, out in read.outputs}
    for step in plan.on_demand:
        refs.update({out: f"{step.view.name}:{feature}" for feature, out in step.outputs})
    return refs


def _run_on_demand(plan: LookupPlan, joined: pa.Table, entity_columns: Sequence[str]) -> pa.Table:
    if not plan.on_demand:
        return joined
    names = {
        (read.view, feature): column
        for read, columns in zip(plan.reads, _fetch_names(plan), strict=True)
        for feature, column in zip(read.fetch, columns, strict=True)
    }
    for step in plan.on_demand:
        joined = _compute(step, joined, names)
    return joined


def _compute(step: OnDemandStep, joined: pa.Table, names: dict[tuple[str, str], str]) -> pa.Table:
    import pandas as pd
    import pyarrow as pa

    columns = {f.name: joined.column(f.name) for f in step.view.request}
    columns.update(
        {feature: joined.column(names[(view, feature)]) for view, feature in step.inputs}
    )
    frame = pa.table(columns).to_pandas() if columns else pd.DataFrame(index=range(len(joined)))
    result = call_on_demand(step, frame)
    dtypes = {f.name: f.dtype for f in step.view.schema}
    for feature, out in step.outputs:
        values = on_demand_output(step, result, feature, len(joined))
        joined = joined.append_column(out, _arrow_column(values, dtypes[feature], step.view.name))
    return joined


def _arrow_column(values: Any, dtype: str, view: str) -> pa.Array:
    import pyarrow as pa

    target = {"timestamp": pa.timestamp("us", "UTC")}.get(dtype) or pa.type_for_alias(
        {"bytes": "binary"}.get(dtype, dtype)
    )
    try:
        return pa.array(values, from_pandas=True).cast(target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidArgument(
            f"On-demand view {view!r}: values do not fit the declared {dtype}: {exc}"
        ) from exc
