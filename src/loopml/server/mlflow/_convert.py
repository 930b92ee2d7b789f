"""loopml's records in MLflow's JSON shapes, and MLflow's dataset inputs as loopml records.

Artifact locations are presented in MLflow's ``mlflow-artifacts:`` scheme, derived
from the ids: ``mlflow-artifacts:/<experiment>/<run>/artifacts``. The MLflow client
then uploads and downloads through this server's ``/api/2.0/mlflow-artifacts``
routes, which put the bytes in loopml's object store and its per-run artifact index,
whatever location string the loopml records carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from loopml.server.mlflow._wire import KeyValue, Message, double
from loopml.store import DatasetInput, Experiment, FileInfo, Metric, Run, RunInfo

ARTIFACTS_SCHEME = "mlflow-artifacts:"
CONTEXT_TAG = "mlflow.data.context"
MODEL_OUTPUT_TAG = "loopml.model_output."
"""Run tag ``loopml.model_output.<model_id>`` = step: MLflow's run outputs (log_outputs)."""
MODEL_INPUT_TAG = "loopml.model_input."
"""Run tag ``loopml.model_input.<model_id>``: MLflow's model inputs (log_inputs)."""


def experiment_location(experiment_id: str) -> str:
    return f"{ARTIFACTS_SCHEME}/{experiment_id}"


def run_artifact_uri(info: RunInfo) -> str:
    return f"{ARTIFACTS_SCHEME}/{info.experiment_id}/{info.run_id}/artifacts"


def tags_json(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def experiment_json(exp: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": experiment_location(exp.experiment_id),
        "lifecycle_stage": exp.lifecycle_stage,
        "last_update_time": exp.last_update_time,
        "creation_time": exp.creation_time,
        "tags": tags_json(exp.tags),
    }


def run_info_json(info: RunInfo) -> dict[str, Any]:
    body: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "artifact_uri": run_artifact_uri(info),
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.end_time is not None:
        body["end_time"] = info.end_time
    return body


def metric_json(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": double(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def dataset_input_json(dataset: DatasetInput) -> dict[str, Any]:
    return {
        "tags": [{"key": CONTEXT_TAG, "value": dataset.context}] if dataset.context else [],
        "dataset": {
            "name": dataset.name,
            "digest": dataset.digest,
            "source_type": dataset.source_type,
            "source": dataset.source,
            "schema": dataset.schema,
            "profile": dataset.profile,
        },
    }


def _linked_models(tags: Mapping[str, str], prefix: str) -> list[tuple[str, str]]:
    return [(k[len(prefix) :], v) for k, v in tags.items() if k.startswith(prefix)]


def run_json(run: Run) -> dict[str, Any]:
    """A run as MLflow's ``Run``: info, data (latest metrics, params, tags), inputs, outputs."""
    tags = run.data.tags
    outputs = _linked_models(tags, MODEL_OUTPUT_TAG)
    inputs = _linked_models(tags, MODEL_INPUT_TAG)
    shown = {k: v for k, v in tags.items() if not k.startswith((MODEL_OUTPUT_TAG, MODEL_INPUT_TAG))}
    return {
        "info": run_info_json(run.info),
        "data": {
            "metrics": [{"key": k, "value": double(v)} for k, v in run.data.metrics.items()],
            "params": [{"key": k, "value": v} for k, v in run.data.params.items()],
            "tags": tags_json(shown),
        },
        "inputs": {
            "dataset_inputs": [dataset_input_json(d) for d in run.inputs.dataset_inputs],
            "model_inputs": [{"model_id": model_id} for model_id, _ in inputs],
        },
        "outputs": {
            "model_outputs": [
                {"model_id": model_id, "step": int(step) if step.isdigit() else 0}
                for model_id, step in outputs
            ]
        },
    }


def file_info_json(info: FileInfo, path: str) -> dict[str, Any]:
    body: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        body["file_size"] = info.file_size
    return body


class DatasetMessage(Message):
    name: str = ""
    digest: str = ""
    source_type: str = ""
    source: str = ""
    # ``schema`` would shadow a BaseModel attribute: the field is read through an alias.
    schema_: str = Field("", validation_alias="schema")
    profile: str = ""


class DatasetInputMessage(Message):
    tags: list[KeyValue] = []
    dataset: DatasetMessage | None = None

    def to_record(self) -> DatasetInput:
        """The loopml record; the input tag ``mlflow.data.context`` becomes ``context``."""
        dataset = self.dataset or DatasetMessage.model_validate({})
        context = next((t.value for t in self.tags if t.key == CONTEXT_TAG), "")
        return DatasetInput(
            name=dataset.name,
            digest=dataset.digest,
            source_type=dataset.source_type,
            source=dataset.source,
            schema=dataset.schema_,
            profile=dataset.profile,
            context=context,
        )
