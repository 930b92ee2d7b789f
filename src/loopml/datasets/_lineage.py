"""Lineage: a dataset version as a run's input, and the versions a run or model read.

A run records a dataset version through the tracking store's dataset inputs,
in MLflow's shape, so the unmodified ``mlflow`` client sees it too: the name,
the content id as ``digest``, ``source_type`` "loopml" and ``source``
``loopml-dataset:/<name>/<version>``, MLflow's column-spec schema and its
``num_rows``/``num_elements`` profile. Tracing goes back from a model version
(through the registry) or a run to those inputs, and from each to its version.
"""

from __future__ import annotations

import json

from loopml.core.errors import InvalidArgument
from loopml.core.ids import is_run_id
from loopml.datasets._validation import parse_dataset_ref
from loopml.registry import Registry, parse_models_uri
from loopml.store import DatasetInput, DatasetVersion, Run
from loopml.store.dataset_records import DATASET_SCHEME

SOURCE_TYPE = "loopml"
DEFAULT_CONTEXT = "training"
MAX_CONTEXT_LENGTH = 256

# Arrow type names as MLflow's column specs call them; a schema holding any other
# type is left out of the input (MLflow's schema is optional, a wrong one is not).
_MLFLOW_TYPES = {
    "bool": "boolean",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "uint8": "integer",
    "uint16": "integer",
    "int64": "long",
    "uint32": "long",
    "float": "float",
    "halffloat": "float",
    "double": "double",
    "string": "string",
    "large_string": "string",
    "binary": "binary",
    "large_binary": "binary",
}


def validate_context(context: object) -> str:
    if not isinstance(context, str) or not context or len(context) > MAX_CONTEXT_LENGTH:
        raise InvalidArgument(
            f"Invalid context {context!r}: give a short word such as 'training' or 'evaluation'."
        )
    return context


def dataset_input(version: DatasetVersion, context: str) -> DatasetInput:
    """The run input that names ``version`` (what ``log_input`` records)."""
    return DatasetInput(
        name=version.name,
        digest=version.content_id,
        source_type=SOURCE_TYPE,
        source=version.uri,
        schema=_mlflow_schema(version.schema),
        profile=_mlflow_profile(version),
        context=context,
    )


def _mlflow_schema(schema: dict[str, str] | None) -> str:
    if not schema:
        return ""
    specs = []
    for name, arrow in schema.items():
        kind = _MLFLOW_TYPES.get(arrow) or (
            "datetime" if arrow.startswith(("timestamp", "date")) else None
        )
        if kind is None:
            return ""
        specs.append({"type": kind, "name": name, "required": True})
    return json.dumps({"mlflow_colspec": specs})


def _mlflow_profile(version: DatasetVersion) -> str:
    if version.rows is None or version.schema is None:
        return ""
    return json.dumps(
        {"num_rows": version.rows, "num_elements": version.rows * len(version.schema)}
    )


def recorded_versions(run: Run, context: str | None = None) -> list[tuple[str, int]]:
    """(name, version) of each loopml dataset version the run recorded, in logged order.

    Inputs of other kinds (an MLflow pandas dataset, say) name no version and
    are skipped; ``context`` keeps only the inputs recorded with that context.
    """
    found: list[tuple[str, int]] = []
    for item in run.inputs.dataset_inputs:
        if item.source_type != SOURCE_TYPE or not item.source.startswith(DATASET_SCHEME):
            continue
        if context is not None and item.context != context:
            continue
        name, version = parse_dataset_ref(item.source)
        if version is not None and (name, version) not in found:
            found.append((name, version))
    return found


def run_of(registry: Registry, model_uri_or_run_id: str) -> str:
    """The run behind ``models:/...`` (through the registry), ``runs:/<id>/...`` or a run id."""
    ref = model_uri_or_run_id
    if not isinstance(ref, str):
        raise InvalidArgument(f"Invalid model URI or run id {ref!r}.")
    if ref.startswith("models:/"):
        parse_models_uri(ref)
        version = registry.resolve(ref)
        if version.run_id is None:
            raise InvalidArgument(
                f"{ref} (version {version.version} of {version.name!r}) names no run, so it "
                "has no recorded inputs: register versions from a run's model."
            )
        return version.run_id
    if ref.startswith("runs:/"):
        ref = ref[len("runs:/") :].lstrip("/").partition("/")[0]
    if not is_run_id(ref):
        raise InvalidArgument(
            f"Invalid model URI or run id {model_uri_or_run_id!r}: give models:/<name>/<version>, "
            "models:/<name>@<alias>, runs:/<run id>/<path> or a run id."
        )
    return ref
