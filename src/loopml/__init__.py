"""loopml: one platform for the whole machine-learning loop.

The fluent SDK::

    import loopml as lm

    with lm.start_run(experiment="iris", run_name="rf"):
        lm.log_param("n_estimators", 100)
        lm.log_metric("accuracy", 0.95, step=1)
        lm.log_model(model, "model", input_example=X[:5], registered_model_name="iris")

    lm.promote("iris", 1, alias="champion", gates=[lm.MetricGate("accuracy")])
    lm.load_model("models:/iris@champion").predict(X)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopml._config_fluent import configured
    from loopml._data_fluent import dataset_lineage, log_input, register_dataset
    from loopml._model_fluent import load_model, log_model, register_model
    from loopml.configuration import compose
    from loopml.core.errors import LoopmlError
    from loopml.deployments import log_labels
    from loopml.evaluation import evaluate, evaluation_gates
    from loopml.models import autolog
    from loopml.monitoring import drift_report
    from loopml.pipelines import PipelineRun, pipeline, run_pipeline, step
    from loopml.registry import (
        MetricGate,
        Registry,
        SignatureGate,
        ValidationGate,
        promote,
        rollback,
    )
    from loopml.store import (
        DatasetInput,
        Experiment,
        FileInfo,
        Metric,
        Param,
        Run,
        RunData,
        RunInfo,
        RunStatus,
        RunTag,
        ViewType,
    )
    from loopml.tracking import (
        ActiveRun,
        Client,
        active_run,
        delete_tag,
        download_artifacts,
        end_run,
        flush,
        get_run,
        get_tracking_uri,
        last_active_run,
        list_artifacts,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_experiment,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )
    from loopml.tuning import tune

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "Client",
    "DatasetInput",
    "Experiment",
    "FileInfo",
    "LoopmlError",
    "Metric",
    "MetricGate",
    "Param",
    "PipelineRun",
    "Registry",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "SignatureGate",
    "ValidationGate",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "compose",
    "configured",
    "dataset_lineage",
    "delete_tag",
    "download_artifacts",
    "drift_report",
    "end_run",
    "evaluate",
    "evaluation_gates",
    "flush",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "list_artifacts",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_labels",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "pipeline",
    "promote",
    "register_dataset",
    "register_model",
    "rollback",
    "run_pipeline",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "step",
    "tune",
]

# Each name's home module, imported on first use (PEP 562): `import loopml.serving` or
# `loopml serve` must not pay for the tracking store, SQLAlchemy and the registry.
_EXPORTS: dict[str, str] = {
    "ActiveRun": "loopml.tracking",
    "Client": "loopml.tracking",
    "DatasetInput": "loopml.store",
    "Experiment": "loopml.store",
    "FileInfo": "loopml.store",
    "LoopmlError": "loopml.core.errors",
    "Metric": "loopml.store",
    "MetricGate": "loopml.registry",
    "Param": "loopml.store",
    "PipelineRun": "loopml.pipelines",
    "pipeline": "loopml.pipelines",
    "run_pipeline": "loopml.pipelines",
    "step": "loopml.pipelines",
    "tune": "loopml.tuning",
    "Registry": "loopml.registry",
    "Run": "loopml.store",
    "RunData": "loopml.store",
    "RunInfo": "loopml.store",
    "RunStatus": "loopml.store",
    "RunTag": "loopml.store",
    "SignatureGate": "loopml.registry",
    "ValidationGate": "loopml.registry",
    "ViewType": "loopml.store",
    "active_run": "loopml.tracking",
    "autolog": "loopml.models",
    "compose": "loopml.configuration",
    "configured": "loopml._config_fluent",
    "dataset_lineage": "loopml._data_fluent",
    "delete_tag": "loopml.tracking",
    "download_artifacts": "loopml.tracking",
    "drift_report": "loopml.monitoring",
    "end_run": "loopml.tracking",
    "evaluate": "loopml.evaluation",
    "evaluation_gates": "loopml.evaluation",
    "flush": "loopml.tracking",
    "get_run": "loopml.tracking",
    "get_tracking_uri": "loopml.tracking",
    "last_active_run": "loopml.tracking",
    "list_artifacts": "loopml.tracking",
    "load_model": "loopml._model_fluent",
    "log_artifact": "loopml.tracking",
    "log_artifacts": "loopml.tracking",
    "log_dict": "loopml.tracking",
    "log_figure": "loopml.tracking",
    "log_input": "loopml._data_fluent",
    "log_labels": "loopml.deployments",
    "log_metric": "loopml.tracking",
    "log_metrics": "loopml.tracking",
    "log_model": "loopml._model_fluent",
    "log_param": "loopml.tracking",
    "log_params": "loopml.tracking",
    "log_text": "loopml.tracking",
    "promote": "loopml.registry",
    "register_dataset": "loopml._data_fluent",
    "register_model": "loopml._model_fluent",
    "rollback": "loopml.registry",
    "search_runs": "loopml.tracking",
    "set_experiment": "loopml.tracking",
    "set_tag": "loopml.tracking",
    "set_tags": "loopml.tracking",
    "set_tracking_uri": "loopml.tracking",
    "start_run": "loopml.tracking",
}
# Subpackages `import loopml` used to import as a side effect: `lm.models.X` still works.
_SUBMODULES = frozenset(
    {
        "_config_fluent",
        "_data_fluent",
        "configuration",
        "_model_fluent",
        "core",
        "data",
        "datasets",
        "deployments",
        "evaluation",
        "executors",
        "features",
        "models",
        "monitoring",
        "objects",
        "pipelines",
        "provenance",
        "registry",
        "repro",
        "store",
        "tracking",
        "tuning",
        "validation",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
