"""The model registry: registered models, immutable versions, aliases, gates, history.

::

    from loopml.registry import Registry, MetricGate, SignatureGate

    registry = Registry()                       # over loopml.tracking.get_client()
    v = registry.create_model_version("fraud", f"runs:/{run_id}/model")
    result = registry.promote("fraud", v.version, "champion",
                              gates=[MetricGate("auc"), SignatureGate()])
    registry.rollback("fraud", "champion")      # back to the previous holder
    registry.resolve("models:/fraud@champion")

Versions snapshot the files of a run folder (no bytes are copied: blobs are
content-addressed), so they never change when the run does. Every alias move
is recorded with who, when and why (``alias_history``). Embedded or against a
loopml server, the same calls behave the same.
"""

from loopml.core.errors import GateFailed
from loopml.registry._fluent import promote, rollback
from loopml.registry._gates import (
    Gate,
    GateContext,
    MetricGate,
    SignatureGate,
    ValidationGate,
    describe_gate,
    gate_from_dict,
    parse_gate,
    run_gate,
)
from loopml.registry._registry import Registry
from loopml.registry._uri import ModelReference, parse_models_uri, parse_runs_uri
from loopml.registry._user import current_user
from loopml.registry._validation import validate_model_name
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
    "AliasAction",
    "AliasEvent",
    "Gate",
    "GateContext",
    "GateFailed",
    "GateResult",
    "MetricGate",
    "ModelReference",
    "ModelVersion",
    "ModelVersionFile",
    "ModelVersionStatus",
    "PromotionResult",
    "RegisteredModel",
    "Registry",
    "SignatureGate",
    "Stage",
    "ValidationGate",
    "current_user",
    "describe_gate",
    "gate_from_dict",
    "parse_gate",
    "parse_models_uri",
    "parse_runs_uri",
    "promote",
    "rollback",
    "run_gate",
    "validate_model_name",
]
