"""Foundation: the metadata store (SQLAlchemy 2 on SQLite or PostgreSQL).

Only the modules of this package write SQL. Callers get frozen records.
"""

from loopml.store._base import SEARCH_MAX_RESULTS, TrackingStore
from loopml.store._database import Database
from loopml.store._dataset_base import DatasetStore
from loopml.store._deployment_base import UPDATABLE_FIELDS, DeploymentStore, LabelColumns
from loopml.store._feature_base import FeatureStoreBackend
from loopml.store._filter import Comparison, OrderBy, parse_filter, parse_order_by
from loopml.store._filter_terms import map_literals, rewrite_terms, split_terms
from loopml.store._metric_chunks import PointColumns
from loopml.store._migrate import HEAD_REVISION, current_revision, upgrade
from loopml.store._monitor_base import MAX_RESULTS, MonitorStore
from loopml.store._paging import decode_token, encode_token
from loopml.store._pipeline_base import MAX_CACHE_LOOKUP, PipelineStore
from loopml.store._policy_base import MAX_EVENTS, PolicyStore
from loopml.store._registry_base import (
    SEARCH_MODELS_MAX_RESULTS,
    SEARCH_VERSIONS_MAX_RESULTS,
    NewModelVersion,
    RegistryStore,
)
from loopml.store._sql_datasets import SqlDatasetStore
from loopml.store._sql_deployments import SqlDeploymentStore
from loopml.store._sql_features import SqlFeatureStore
from loopml.store._sql_governance import SqlGovernanceStore
from loopml.store._sql_monitors import SqlMonitorStore
from loopml.store._sql_pipelines import SqlPipelineStore
from loopml.store._sql_policies import SqlPolicyStore
from loopml.store._sql_registry import SqlRegistryStore
from loopml.store._sql_store import SqlTrackingStore
from loopml.store._visibility import current_visibility, visible_workspaces
from loopml.store.dataset_records import (
    ColumnProfile,
    Dataset,
    DatasetVersion,
    NewDatasetVersion,
)
from loopml.store.deployment_records import (
    Deployment,
    PredictionLabel,
    PredictionRecord,
    PredictionSegment,
    Role,
)
from loopml.store.feature_records import (
    FEATURE_KINDS,
    FeatureMaterialization,
    FeatureRecord,
    NewFeatureDefinition,
)
from loopml.store.monitor_records import (
    AlertEvent,
    AlertRule,
    Monitor,
    MonitorResult,
    NewAlertEvent,
)
from loopml.store.pipeline_records import MissedRuns, Schedule, StepCacheEntry
from loopml.store.policy_records import (
    ACTIVE_STATES,
    RUN_STATES,
    TERMINAL_STATES,
    NewPolicyEvent,
    PolicyEvent,
    PolicyRun,
    StoredPolicy,
    Transition,
)
from loopml.store.records import (
    ArtifactEntry,
    DatasetInput,
    Experiment,
    ExperimentTag,
    FileInfo,
    LifecycleStage,
    Metric,
    NewRun,
    PagedList,
    Param,
    Run,
    RunActivity,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from loopml.store.registry_records import (
    AliasAction,
    AliasEvent,
    GateResult,
    ModelVersion,
    ModelVersionFile,
    ModelVersionStatus,
    PromotionResult,
    RegisteredModel,
    Stage,
)

__all__ = [
    "ACTIVE_STATES",
    "FEATURE_KINDS",
    "HEAD_REVISION",
    "MAX_CACHE_LOOKUP",
    "MAX_EVENTS",
    "MAX_RESULTS",
    "RUN_STATES",
    "SEARCH_MAX_RESULTS",
    "SEARCH_MODELS_MAX_RESULTS",
    "SEARCH_VERSIONS_MAX_RESULTS",
    "TERMINAL_STATES",
    "UPDATABLE_FIELDS",
    "AlertEvent",
    "AlertRule",
    "AliasAction",
    "AliasEvent",
    "ArtifactEntry",
    "ColumnProfile",
    "Comparison",
    "Database",
    "Dataset",
    "DatasetInput",
    "DatasetStore",
    "DatasetVersion",
    "Deployment",
    "DeploymentStore",
    "Experiment",
    "ExperimentTag",
    "FeatureMaterialization",
    "FeatureRecord",
    "FeatureStoreBackend",
    "FileInfo",
    "GateResult",
    "LabelColumns",
    "LifecycleStage",
    "Metric",
    "MissedRuns",
    "ModelVersion",
    "ModelVersionFile",
    "ModelVersionStatus",
    "Monitor",
    "MonitorResult",
    "MonitorStore",
    "NewAlertEvent",
    "NewDatasetVersion",
    "NewFeatureDefinition",
    "NewModelVersion",
    "NewPolicyEvent",
    "NewRun",
    "OrderBy",
    "PagedList",
    "Param",
    "PipelineStore",
    "PointColumns",
    "PolicyEvent",
    "PolicyRun",
    "PolicyStore",
    "PredictionLabel",
    "PredictionRecord",
    "PredictionSegment",
    "PromotionResult",
    "RegisteredModel",
    "RegistryStore",
    "Role",
    "Run",
    "RunActivity",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "Schedule",
    "SqlDatasetStore",
    "SqlDeploymentStore",
    "SqlFeatureStore",
    "SqlGovernanceStore",
    "SqlMonitorStore",
    "SqlPipelineStore",
    "SqlPolicyStore",
    "SqlRegistryStore",
    "SqlTrackingStore",
    "Stage",
    "StepCacheEntry",
    "StoredPolicy",
    "TrackingStore",
    "Transition",
    "ViewType",
    "current_revision",
    "current_visibility",
    "decode_token",
    "encode_token",
    "map_literals",
    "parse_filter",
    "parse_order_by",
    "rewrite_terms",
    "split_terms",
    "upgrade",
    "visible_workspaces",
]
