"""The metadata tables, described once as SQLAlchemy 2 typed models.

Records handed to callers are frozen dataclasses (``records.py``); these ORM
classes never leave the ``store`` package. Repositories mostly use their
``__table__`` with SQLAlchemy Core for bulk speed.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 32
KEY_LENGTH = 250
NAME_LENGTH = 256


class Base(DeclarativeBase):
    """Declarative base of every loopml table."""


class ExperimentRow(Base):
    __tablename__ = "experiments"

    experiment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    artifact_location: Mapped[str] = mapped_column(Text)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class ExperimentTagRow(Base):
    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_experiment_start", "experiment_id", "start_time"),)

    run_uuid: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    deleted_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    user_id: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    artifact_uri: Mapped[str] = mapped_column(Text)
    parent_run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True, index=True)


class ParamRow(Base):
    __tablename__ = "params"

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TagRow(Base):
    __tablename__ = "tags"

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricChunkRow(Base):
    """Metric points stored in packed blocks: one row per key per logged batch.

    ``data`` holds ``count`` steps (int64), timestamps (int64) and values
    (float64, so NaN and infinity need no special column). Writing 1,000
    points is one row instead of 1,000, and a history of 10,000 points is a
    handful of rows decoded by NumPy (``_metric_chunks.py``).
    """

    __tablename__ = "metric_chunks"
    __table_args__ = (Index("ix_metric_chunks_run_key", "run_uuid", "key"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_uuid: Mapped[str] = mapped_column(ForeignKey("runs.run_uuid", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LatestMetricRow(Base):
    """The point with the greatest (step, timestamp, value) per run and key: what search sees."""

    __tablename__ = "latest_metrics"
    __table_args__ = (Index("ix_latest_metrics_key_value", "key", "value"),)

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[float] = mapped_column(Float(precision=53))
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)


class RunInputRow(Base):
    """A dataset a run read (lineage): MLflow's dataset input, flattened."""

    __tablename__ = "run_inputs"

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    digest: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    context: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True, default="")
    source_type: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    schema: Mapped[str] = mapped_column(Text, default="")
    profile: Mapped[str] = mapped_column(Text, default="")


class IngestedBatchRow(Base):
    """Ids of batches already written, so a replayed batch (remote spool) is stored once."""

    __tablename__ = "ingested_batches"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), index=True
    )
    created: Mapped[int] = mapped_column(BigInteger)


class ArtifactRow(Base):
    """The artifact index: one row per file a run logged, pointing at its blob."""

    __tablename__ = "artifacts"
    __table_args__ = (Index("ix_artifacts_blob", "blob_id"),)

    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    blob_id: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)


# -- model registry ------------------------------------------------------------------
# Keyed by the registered model's name, as MLflow does: a rename is one UPDATE that
# cascades (ON UPDATE CASCADE) to versions, tags, files, aliases and alias events.
def _model_fk() -> ForeignKey:
    """A reference to a registered model, following its renames and deletion."""
    return ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE")


class RegisteredModelRow(Base):
    """A registered model; ``last_version`` keeps version numbers from being reused."""

    __tablename__ = "registered_models"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    last_version: Mapped[int] = mapped_column(Integer, default=0)


class RegisteredModelTagRow(Base):
    __tablename__ = "registered_model_tags"

    name: Mapped[str] = mapped_column(_model_fk(), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersionRow(Base):
    """An immutable model version; ``run_id`` has no foreign key (runs can be purged)."""

    __tablename__ = "model_versions"
    __table_args__ = (Index("ix_model_versions_run", "run_id"),)

    name: Mapped[str] = mapped_column(_model_fk(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text)
    files_source: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(20), default="None")
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    model_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_id: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")


def _version_fk() -> ForeignKeyConstraint:
    """A (name, version) reference to a model version, following its renames and deletion."""
    return ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        onupdate="CASCADE",
        ondelete="CASCADE",
    )


class ModelVersionTagRow(Base):
    __tablename__ = "model_version_tags"
    __table_args__ = (_version_fk(),)

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersionFileRow(Base):
    """A version's snapshot of its files: copied from the run's artifact index at creation."""

    __tablename__ = "model_version_files"
    __table_args__ = (_version_fk(), Index("ix_model_version_files_blob", "blob_id"))

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    blob_id: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


class ModelAliasRow(Base):
    """The current holder of each alias (its history is in ``alias_events``)."""

    __tablename__ = "model_aliases"

    name: Mapped[str] = mapped_column(_model_fk(), primary_key=True)
    alias: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class AliasEventRow(Base):
    """Every alias move, append-only: who moved it, when, why, from which version, gates."""

    __tablename__ = "alias_events"
    __table_args__ = (Index("ix_alias_events_name_alias", "name", "alias", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    name: Mapped[str] = mapped_column(_model_fk())
    alias: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    previous_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    time: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(String(16))
    # JSON: {"gates": [{"gate", "passed", "message"}, ...]} for a gated promotion; the
    # server default fills the rows written before the column existed.
    details: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# The Core tables the repositories write through (bulk statements skip the ORM).
EXPERIMENTS = table_of(ExperimentRow)
EXPERIMENT_TAGS = table_of(ExperimentTagRow)
RUNS = table_of(RunRow)
PARAMS = table_of(ParamRow)
TAGS = table_of(TagRow)
METRIC_CHUNKS = table_of(MetricChunkRow)
LATEST_METRICS = table_of(LatestMetricRow)
RUN_INPUTS = table_of(RunInputRow)
ARTIFACTS = table_of(ArtifactRow)
INGESTED_BATCHES = table_of(IngestedBatchRow)
REGISTERED_MODELS = table_of(RegisteredModelRow)
REGISTERED_MODEL_TAGS = table_of(RegisteredModelTagRow)
MODEL_VERSIONS = table_of(ModelVersionRow)
MODEL_VERSION_TAGS = table_of(ModelVersionTagRow)
MODEL_VERSION_FILES = table_of(ModelVersionFileRow)
MODEL_ALIASES = table_of(ModelAliasRow)
ALIAS_EVENTS = table_of(AliasEventRow)


# -- deployments and the prediction log (issue 6) ----------------------------------------


class DeploymentRow(Base):
    """The routing record a serving process follows; ``revision`` grows with each update."""

    __tablename__ = "deployments"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    model_uri: Mapped[str] = mapped_column(Text)
    canary_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    canary_weight: Mapped[float] = mapped_column(Float, default=0.0)
    shadow_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer)
    feature_service: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)


class PredictionSegmentRow(Base):
    """One Parquet segment of a prediction log (a blob) and the time span it covers.

    No foreign key to ``deployments``: a server started on a bare model URI logs
    under its name, and a deployment's log outlives the deletion of its record.
    """

    __tablename__ = "prediction_segments"
    __table_args__ = (Index("ix_prediction_segments_span", "deployment", "min_time", "max_time"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH))
    blob_id: Mapped[str] = mapped_column(String(64))
    min_time: Mapped[int] = mapped_column(BigInteger)
    max_time: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)


class PredictionLabelRow(Base):
    """The ground truth of one request (JSON text); labelling again overwrites it."""

    __tablename__ = "prediction_labels"

    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    time: Mapped[int] = mapped_column(BigInteger)


DEPLOYMENTS = table_of(DeploymentRow)
PREDICTION_SEGMENTS = table_of(PredictionSegmentRow)
PREDICTION_LABELS = table_of(PredictionLabelRow)


# -- datasets (issue 7) ------------------------------------------------------------------


class DatasetRow(Base):
    """A dataset name; ``last_version`` numbers its versions (never reused)."""

    __tablename__ = "datasets"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    last_version: Mapped[int] = mapped_column(Integer, default=0)


class DatasetVersionRow(Base):
    """An immutable dataset version: content in the object store and what it holds.

    One version per (name, content): registering the same content again finds it.
    ``schema``, ``tags`` and ``profile`` are JSON texts.
    """

    __tablename__ = "dataset_versions"
    __table_args__ = (Index("ix_dataset_versions_content", "name", "content_id"),)

    name: Mapped[str] = mapped_column(
        ForeignKey("datasets.name", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(BigInteger)
    files: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="{}")
    user_id: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    schema: Mapped[str | None] = mapped_column(Text, nullable=True)
    rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    profile: Mapped[str | None] = mapped_column(Text, nullable=True)


DATASETS = table_of(DatasetRow)
DATASET_VERSIONS = table_of(DatasetVersionRow)


# -- pipelines: schedules and the step cache (issue 8) -----------------------------------


class PipelineScheduleRow(Base):
    """A pipeline run on a cron schedule by the server's scheduler.

    ``params`` is a JSON object of the pipeline's parameters (as given on the
    command line). ``next_run_time`` is the compare-and-set token: a scheduler
    takes a due schedule by moving it, so only one worker runs each slot.
    """

    __tablename__ = "pipeline_schedules"
    __table_args__ = (Index("ix_pipeline_schedules_due", "next_run_time"),)

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    target: Mapped[str] = mapped_column(Text)
    cron: Mapped[str] = mapped_column(String(NAME_LENGTH))
    params: Mapped[str] = mapped_column(Text, default="{}")
    missed: Mapped[str] = mapped_column(String(16))
    executor: Mapped[str] = mapped_column(String(16))
    workdir: Mapped[str] = mapped_column(Text)
    next_run_time: Mapped[int] = mapped_column(BigInteger)
    last_fire_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)


class StepCacheRow(Base):
    """The step run whose outputs a cache key stands for (deleted with the run).

    ``outputs`` is a JSON object: output name -> format, id and the files
    (path, blob id, size) in that run's artifact index.
    """

    __tablename__ = "step_cache"

    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_uuid: Mapped[str] = mapped_column(
        ForeignKey("runs.run_uuid", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(NAME_LENGTH))
    outputs: Mapped[str] = mapped_column(Text)
    created: Mapped[int] = mapped_column(BigInteger)


PIPELINE_SCHEDULES = table_of(PipelineScheduleRow)
STEP_CACHE = table_of(StepCacheRow)


# -- monitoring and alerts (issue 9) -----------------------------------------------------


class MonitorRow(Base):
    """A monitor of a deployment's prediction log; ``spec`` is a JSON object.

    ``last_window_end`` is the progress cursor: windows ending after it are
    still to compute.
    """

    __tablename__ = "monitors"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    spec: Mapped[str] = mapped_column(Text)
    start_time: Mapped[int] = mapped_column(BigInteger)
    last_window_end: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)


class MonitorResultRow(Base):
    """One evaluated window; ``metrics`` and ``drift`` are JSON texts.

    The key (monitor, window_start) makes a window's result written once, even
    when two server workers evaluate it at the same moment.
    """

    __tablename__ = "monitor_results"

    monitor: Mapped[str] = mapped_column(
        ForeignKey("monitors.name", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    window_end: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    metrics: Mapped[str] = mapped_column(Text)
    drift: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference: Mapped[str] = mapped_column(Text, default="")
    created_time: Mapped[int] = mapped_column(BigInteger)


class AlertRuleRow(Base):
    """A condition on a monitor's metrics; ``destinations`` is a JSON list."""

    __tablename__ = "alert_rules"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    monitor: Mapped[str] = mapped_column(
        ForeignKey("monitors.name", ondelete="CASCADE"), index=True
    )
    condition: Mapped[str] = mapped_column(Text)
    cooldown_ms: Mapped[int] = mapped_column(BigInteger)
    destinations: Mapped[str] = mapped_column(Text, default="[]")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fired_window_end: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)


class AlertEventRow(Base):
    """One firing; unique per (rule, window) so a window never alerts twice.

    Events outlive their rule and monitor (they are the history), so no
    foreign keys; ``deliveries`` is a JSON list filled in after sending.
    """

    __tablename__ = "alert_events"
    __table_args__ = (
        Index("ux_alert_events_rule_window", "rule", "window_start", unique=True),
        Index("ix_alert_events_monitor", "monitor"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    rule: Mapped[str] = mapped_column(String(NAME_LENGTH))
    monitor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH))
    metric: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    condition: Mapped[str] = mapped_column(Text)
    window_start: Mapped[int] = mapped_column(BigInteger)
    window_end: Mapped[int] = mapped_column(BigInteger)
    time: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
    deliveries: Mapped[str] = mapped_column(Text, default="[]")


MONITORS = table_of(MonitorRow)
MONITOR_RESULTS = table_of(MonitorResultRow)
ALERT_RULES = table_of(AlertRuleRow)
ALERT_EVENTS = table_of(AlertEventRow)


# -- feature store (issue 14) ------------------------------------------------------------


class FeatureDefinitionRow(Base):
    """One version of a feature definition; ``spec`` is its JSON text.

    ``kind`` is "entity", "feature_view", "on_demand_feature_view" or
    "feature_service"; versions of one (kind, name) count up from 1 and are
    never changed once written. ``digest`` (sha256 of the canonical spec) makes
    applying an unchanged definition a no-op.
    """

    __tablename__ = "feature_definitions"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_time: Mapped[int] = mapped_column(BigInteger)


class FeatureMaterializationRow(Base):
    """One load into the online store of a view's rows with event times in [start_ms, end_ms)."""

    __tablename__ = "feature_materializations"
    __table_args__ = (Index("ix_feature_materializations_view_end", "view", "end_ms"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    view: Mapped[str] = mapped_column(String(NAME_LENGTH))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    finished_time: Mapped[int] = mapped_column(BigInteger)


FEATURE_DEFINITIONS = table_of(FeatureDefinitionRow)
FEATURE_MATERIALIZATIONS = table_of(FeatureMaterializationRow)


# -- automation policies (issue 10) ------------------------------------------------------


class PolicyRow(Base):
    """An automation policy; ``spec`` and ``cursors`` are JSON objects (versionless)."""

    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    model: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    spec: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cursors: Mapped[str] = mapped_column(Text, default="{}")
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)


class PolicyRunRow(Base):
    """One run of a policy; runs outlive their policy (history), so no foreign key.

    ``lease_owner`` and ``heartbeat_time`` say which worker advances it; a
    lease whose heartbeat is old belongs to a worker that died.
    """

    __tablename__ = "policy_runs"
    __table_args__ = (
        Index("ix_policy_runs_policy", "policy"),
        Index("ix_policy_runs_state", "state"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    policy: Mapped[str] = mapped_column(String(NAME_LENGTH))
    model: Mapped[str] = mapped_column(String(NAME_LENGTH))
    state: Mapped[str] = mapped_column(String(32))
    spec: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[str] = mapped_column(Text, default="{}")
    details: Mapped[str] = mapped_column(Text, default="{}")
    canary_started: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    heartbeat_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)
    finished_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class PolicyEventRow(Base):
    """One step of a policy run; ``links`` is a JSON object."""

    __tablename__ = "policy_events"
    __table_args__ = (
        Index("ix_policy_events_run", "run_id"),
        Index("ix_policy_events_policy", "policy"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[int] = mapped_column(BigInteger)
    policy: Mapped[str] = mapped_column(String(NAME_LENGTH))
    time: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[str] = mapped_column(Text, default="{}")


class PolicyLockRow(Base):
    """The one active policy run of a model: inserted with the run, deleted when it ends.

    The primary key on ``model`` is the lock: a second insert for the same
    model conflicts, so two triggers never start two runs of one model.
    """

    __tablename__ = "policy_locks"

    model: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    policy: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_time: Mapped[int] = mapped_column(BigInteger)


POLICIES = table_of(PolicyRow)
POLICY_RUNS = table_of(PolicyRunRow)
POLICY_EVENTS = table_of(PolicyEventRow)
POLICY_LOCKS = table_of(PolicyLockRow)
