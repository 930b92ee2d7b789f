"""Frozen records of deployments and of their prediction log.

A ``Deployment`` names what a serving process routes to: a primary model, an
optional canary taking a weighted share of traffic, an optional shadow that
sees every request but never answers. A ``PredictionRecord`` is what the
inference server hands to the prediction log for one request; the log stores
it as rows of Parquet segments, indexed by ``PredictionSegment`` rows. Times
are epoch milliseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Role(enum.StrEnum):
    """Which route of a deployment answered (or, for shadow, mirrored) a request."""

    PRIMARY = "primary"
    CANARY = "canary"
    SHADOW = "shadow"


@dataclass(frozen=True, slots=True)
class Deployment:
    """The routing record a serving process follows.

    ``revision`` starts at 1 and grows by one with every update, so a server can
    tell cheaply whether the record it follows changed. ``feature_service``
    names the feature service whose features the server looks up for each
    request (which then carries entity keys instead of model inputs).
    """

    name: str
    model_uri: str
    canary_uri: str | None
    canary_weight: float
    shadow_uri: str | None
    description: str
    revision: int
    created_time: int
    updated_time: int
    feature_service: str | None = None


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One request as the prediction log receives it.

    ``inputs`` maps each input column to its values (a request may carry many
    rows); ``outputs`` holds one JSON-able prediction per row. ``error`` is set
    when the model failed (then ``outputs`` may be empty).
    """

    request_id: str
    time_ms: int
    deployment: str
    model_uri: str
    model_version: str
    role: str
    inputs: dict[str, list[Any]]
    outputs: list[Any]
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PredictionSegment:
    """One Parquet segment of a deployment's prediction log: where it is and what it spans."""

    id: int
    deployment: str
    blob_id: str
    min_time: int
    max_time: int
    rows: int
    created_time: int


@dataclass(frozen=True, slots=True)
class PredictionLabel:
    """The ground truth attached to a request (``label`` is any JSON value)."""

    request_id: str
    label: Any
    time: int
