"""The registry's records in MLflow's JSON shapes, and MLflow's registry request values.

MLflow numbers versions with strings on the wire (``"3"``), names legacy stages
case-insensitively (``"production"``), and shows a version's ``run_id`` as the run
that trained the model. A version registered from a logged model that no run made
is held by the loopml run that stores the logged model: MLflow shows no run for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loopml.core.errors import AlreadyExists, InvalidArgument
from loopml.registry import ModelVersion, RegisteredModel
from loopml.server.mlflow._convert import tags_json
from loopml.server.mlflow._model_runs import model_id_of

STAGES = ("None", "Staging", "Production", "Archived")
_NOT_A_PROMPT = "tag.`mlflow.prompt.is_prompt` != 'true'"
_CANONICAL = {stage.lower(): stage for stage in STAGES}
_MAX_VERSION = 2**63 - 1


class RegistryAlreadyExists(AlreadyExists):
    """MLflow's registry answers RESOURCE_ALREADY_EXISTS with 400, and its clients expect it."""

    http_status = 400


def version_number(value: str | int, field: str = "version") -> int:
    """A version sent as MLflow sends it (a decimal string) as an int."""
    text = str(value).strip()
    if not text:
        raise InvalidArgument(f"Missing value for required parameter '{field}'.")
    if not text.isdigit() or not 0 < int(text) <= _MAX_VERSION:
        raise InvalidArgument(
            f"Invalid value {str(value)[:40]!r} for parameter '{field}': a model version is "
            "a positive integer."
        )
    return int(text)


def canonical_stage(stage: str) -> str:
    """A legacy stage name in MLflow's spelling, whatever its case."""
    canonical = _CANONICAL.get(stage.strip().lower())
    if canonical is None:
        raise InvalidArgument(
            f"Invalid model version stage {stage[:40]!r}: use one of {', '.join(STAGES)}."
        )
    return canonical


def canonical_stages(stages: Sequence[str]) -> list[str] | None:
    """The stages of ``get_latest_versions``; None (every stage) when none are named."""
    return [canonical_stage(s) for s in stages] or None


def model_filter(filter_string: str) -> str | None:
    """A registered-model filter without the prompt exclusion the mlflow client appends.

    The client adds ``tag.`mlflow.prompt.is_prompt` != 'true'`` to every search so that
    MLflow's prompt registry (registered models with that tag) stays out of model
    listings. MLflow's server special-cases that term (a model without the tag matches);
    loopml keeps no prompts, so the term is dropped rather than evaluated as a tag test
    that a model without the tag would fail.
    """
    text = filter_string.strip()
    if text == _NOT_A_PROMPT:
        return None
    if text.endswith(" AND " + _NOT_A_PROMPT):
        text = text[: -len(" AND " + _NOT_A_PROMPT)].strip()
    return text or None


def shown_run_id(version: ModelVersion) -> str:
    """The run MLflow shows for a version: '' for the run that only holds a logged model."""
    if not version.run_id or (version.model_id and model_id_of(version.run_id) == version.model_id):
        return ""
    return version.run_id


def model_version_json(version: ModelVersion) -> dict[str, Any]:
    """A version as MLflow's ``ModelVersion``."""
    body: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_time,
        "last_updated_timestamp": version.last_updated_time,
        "user_id": version.user,
        "current_stage": version.stage,
        "description": version.description,
        "source": version.source,
        "status": version.status,
        "tags": tags_json(version.tags),
        "aliases": list(version.aliases),
    }
    if run_id := shown_run_id(version):
        body["run_id"] = run_id
    if version.model_id:
        body["model_id"] = version.model_id
    return body


def registered_model_json(model: RegisteredModel, latest: Sequence[ModelVersion]) -> dict[str, Any]:
    """A registered model as MLflow's ``RegisteredModel``, with its latest version per stage."""
    return {
        "name": model.name,
        "creation_timestamp": model.creation_time,
        "last_updated_timestamp": model.last_updated_time,
        "description": model.description,
        "tags": tags_json(model.tags),
        "aliases": [
            {"alias": alias, "version": str(version)}
            for alias, version in sorted(model.aliases.items())
        ],
        "latest_versions": [model_version_json(v) for v in latest],
    }
