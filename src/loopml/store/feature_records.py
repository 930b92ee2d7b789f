"""Frozen records of the feature store's metadata: definition versions, materialisations.

A ``FeatureRecord`` is one version of one definition (an entity, a feature
view, an on-demand feature view or a feature service) as the metadata store
keeps it: its JSON ``spec`` and the ``digest`` of that spec. Interpreting the
spec is ``loopml.features``' business. A ``FeatureMaterialization`` says that
a view's rows with event times in ``[start_ms, end_ms)`` were loaded into the
online store. Times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FEATURE_KINDS = ("entity", "feature_view", "on_demand_feature_view", "feature_service")
"""The kinds of definition, in the order an apply writes them (referenced ones first)."""


@dataclass(frozen=True, slots=True)
class FeatureRecord:
    """One version of a definition; versions of a (kind, name) count up from 1."""

    kind: str
    name: str
    version: int
    spec: dict[str, Any]
    digest: str
    created_time: int


@dataclass(frozen=True, slots=True)
class NewFeatureDefinition:
    """What an apply hands the store for one definition; the store numbers the version."""

    kind: str
    name: str
    spec: dict[str, Any]
    digest: str


@dataclass(frozen=True, slots=True)
class FeatureMaterialization:
    """One load of a view's rows with event times in ``[start_ms, end_ms)``."""

    view: str
    start_ms: int
    end_ms: int
    rows: int
    finished_time: int
