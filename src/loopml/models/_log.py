"""``log_model``: save a model and store it as artifacts of a run.

The model is saved whole into a temporary folder, then logged with one
``log_artifacts`` call, whose index write is atomic: the run shows the
whole model folder or nothing. Like MLflow, a call outside any run starts
one and ends it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.core.errors import AlreadyExists, InvalidArgument
from loopml.models._flavor import SaveOptions
from loopml.models._manifest import Manifest
from loopml.models._save import write_model
from loopml.models._signature import Signature
from loopml.objects import validate_tree_path
from loopml.tracking import ActiveRun, Client, active_run, end_run, get_client, start_run

DEFAULT_EXPERIMENT_ID = "0"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Where a logged model went: its run, its artifact path, its URI and manifest."""

    run_id: str
    artifact_path: str
    model_uri: str
    manifest: Manifest
    registered_model_version: int | None = None  # set by loopml.log_model(registered_model_name=)


def log_model(
    model: Any,
    name: str,
    *,
    input_example: Any = None,
    signature: Signature | Mapping[str, Any] | None = None,
    client: Client | None = None,
    run_id: str | None = None,
    flavor: str | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    extra_requirements: Sequence[str] | None = None,
    init_kwargs: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
    onnx: bool = False,
) -> ModelInfo:
    """Save ``model`` and log it under artifact path ``name`` of a run.

    The run is ``run_id``, else the active run, else a new one started and
    ended here. ``client`` is the tracking client to log through (the fluent
    SDK's by default). Keyword arguments are those of ``save_model``. A run
    that already has files under ``name`` is refused (AlreadyExists).
    """
    artifact_path = _check_name(name)
    tracking = client or get_client()
    run, started = _target_run(tracking, client, run_id)
    status = "FAILED"
    try:
        if tracking.list_artifact_entries(run, artifact_path):
            raise AlreadyExists(
                f"Run {run} already has artifacts under {artifact_path!r}: log the model under "
                "another name."
            )
        options = SaveOptions(
            code_paths=[Path(p) for p in code_paths or ()],
            artifacts={k: Path(v) for k, v in (artifacts or {}).items()},
            init_kwargs=init_kwargs or {},
            model_config=model_config or {},
        )
        with tempfile.TemporaryDirectory(prefix="loopml-log-model-") as tmp:
            local = Path(tmp) / "model"
            manifest = write_model(
                model,
                local,
                flavor=flavor,
                input_example=input_example,
                signature=signature,
                options=options,
                extra_requirements=extra_requirements,
                artifact_path=artifact_path,
                run_id=run,
                onnx=onnx,
            )
            tracking.log_artifacts(run, str(local), artifact_path)
        status = "FINISHED"
    finally:
        if started is not None:
            _end(tracking, started, status)
    return ModelInfo(run, artifact_path, f"runs:/{run}/{artifact_path}", manifest)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip("/"):
        raise InvalidArgument("The model's name (its artifact path) must be a non-empty string.")
    try:
        return validate_tree_path(name.strip("/"))
    except InvalidArgument as exc:
        raise InvalidArgument(f"Invalid model name {name!r}: {exc.message}.") from exc


def _target_run(
    tracking: Client, client: Client | None, run_id: str | None
) -> tuple[str, ActiveRun | str | None]:
    """The run to log to, and what this call started (to end it)."""
    if run_id is not None:
        tracking.get_run(run_id)  # NotFound before anything is saved
        return run_id, None
    active = active_run()
    if active is not None and (client is None or client.tracking_uri == get_client().tracking_uri):
        return active.info.run_id, None
    if client is None:
        run = start_run()
        return run.info.run_id, run
    created = tracking.create_run(DEFAULT_EXPERIMENT_ID).info.run_id
    return created, created


def _end(tracking: Client, started: ActiveRun | str, status: str) -> None:
    if isinstance(started, ActiveRun):
        if active_run() is started:
            end_run(status)
    else:
        tracking.set_terminated(started, status)
