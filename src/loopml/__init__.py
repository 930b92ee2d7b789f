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

from loopml._model_fluent import load_model, log_model, register_model
from loopml.core.errors import LoopmlError
from loopml.models import autolog
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
    log_input,
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
    "delete_tag",
    "download_artifacts",
    "end_run",
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
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "promote",
    "register_model",
    "rollback",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
