"""Frozen records that stores return: the one description of each tracking entity.

Field names follow MLflow's entities so that users (and the MLflow-compatible
API) find what they expect: ``run.info.run_id``, ``run.data.metrics``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminated(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class LifecycleStage(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which lifecycle stages a listing shows (MLflow's ``ViewType``)."""

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    def stages(self) -> tuple[str, ...]:
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric point. ``timestamp`` is in ms since the epoch."""

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ExperimentTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset a run read: name and digest identify it, context says how it was used."""

    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema: str = ""
    profile: str = ""
    context: str = ""


@dataclass(frozen=True, slots=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    user_id: str = ""
    parent_run_id: str | None = None

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for ``run_id``."""
        return self.run_id


@dataclass(frozen=True, slots=True)
class RunData:
    """The latest value of each metric, and every param and tag."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunInputs:
    dataset_inputs: tuple[DatasetInput, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)


@dataclass(frozen=True, slots=True)
class NewRun:
    """A whole run written in one call (``TrackingStore.create_runs``).

    For callers that learn everything about a run at once and make many of
    them, such as tuning trials: one write for a thousand runs instead of
    three round trips per run. ``tags`` are the caller's; the store adds
    MLflow's system tags from the fields (``system_tags``). ``status`` is
    usually terminal.
    """

    run_name: str
    start_time: int
    end_time: int | None = None
    status: str = RunStatus.FINISHED
    parent_run_id: str | None = None
    user_id: str = ""
    metrics: tuple[Metric, ...] = ()
    params: tuple[Param, ...] = ()
    tags: tuple[RunTag, ...] = ()

    def system_tags(self) -> dict[str, str]:
        """The run's tags with MLflow's system tags: ``mlflow.runName`` is always the run
        name; ``mlflow.user`` and ``mlflow.parentRunId`` come from the fields unless the
        caller's tags set them (as ``create_run`` merges them)."""
        tags = {"mlflow.user": self.user_id}
        if self.parent_run_id:
            tags["mlflow.parentRunId"] = self.parent_run_id
        for tag in self.tags:
            tags[tag.key] = tag.value
        tags["mlflow.runName"] = self.run_name
        return tags


@dataclass(frozen=True, slots=True)
class RunActivity:
    """How busy an experiment is: its active runs and when the latest one last moved (ms)."""

    run_count: int = 0
    last_time: int | None = None


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    """A file in a run's artifact index: its path and the blob holding its bytes."""

    path: str
    blob_id: str
    size: int


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One entry of an artifact listing (a file, or a folder with ``is_dir``)."""

    path: str
    is_dir: bool
    file_size: int | None = None


class PagedList(list[T], Generic[T]):
    """A page of results; ``token`` fetches the next page, None on the last."""

    def __init__(self, items: list[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token
