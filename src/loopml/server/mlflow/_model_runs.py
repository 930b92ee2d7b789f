"""MLflow 3 logged models, kept as loopml runs until loopml has a logged-model table.

A logged model has what a run has: an id, an experiment, a name, a status,
timestamps, tags, params and a folder of artifacts. So each one is stored as a
loopml run of its experiment, marked with the tag ``loopml.logged_model``:

    model_id                   "m-" + the run's id
    name                       the run's name
    status PENDING/READY/FAILED  the run's status RUNNING/FINISHED/FAILED
    creation / last update     the run's start time / end time (start time while pending)
    source_run_id, model_type  the tags loopml.logged_model.source_run_id / .model_type
    tags, params               the run's other tags and its params
    artifacts                  the run's artifact index, presented to MLflow as
                               mlflow-artifacts:/<exp>/models/<model_id>/artifacts

Everything is written through the tracking service (and checked before the first
write), so it is durable and reached by ``loopml gc``. The MLflow API hides these
runs from run searches and keeps its clients from setting the marker tags. Model
metrics (MLflow links metric points to a model id) are not kept: loopml's metric
points carry no model id, so ``data.metrics`` is empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from loopml.core.errors import InvalidArgument, NotFound
from loopml.server.mlflow._convert import ARTIFACTS_SCHEME, tags_json
from loopml.server.mlflow._filters import map_literals, rewrite_terms
from loopml.store import LifecycleStage, Param, Run, RunInfo, RunStatus
from loopml.tracking import Client
from loopml.tracking._validation import validate_batch

MODEL_TAG = "loopml.logged_model"
SOURCE_RUN_TAG = "loopml.logged_model.source_run_id"
MODEL_TYPE_TAG = "loopml.logged_model.model_type"
MODEL_FILTER = f"tags.{MODEL_TAG} = 'true'"
NOT_A_MODEL = f"tags.{MODEL_TAG} IS NULL"

_PREFIX = "m-"
_MODEL_ID = re.compile(r"^m-([0-9a-f]{32})$")
_STATUS_TO_RUN = {
    "LOGGED_MODEL_PENDING": RunStatus.RUNNING,
    "LOGGED_MODEL_READY": RunStatus.FINISHED,
    "LOGGED_MODEL_UPLOAD_FAILED": RunStatus.FAILED,
}
_RUN_TO_STATUS = {
    RunStatus.RUNNING: "LOGGED_MODEL_PENDING",
    RunStatus.SCHEDULED: "LOGGED_MODEL_PENDING",
    RunStatus.FINISHED: "LOGGED_MODEL_READY",
    RunStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
    RunStatus.KILLED: "LOGGED_MODEL_UPLOAD_FAILED",
}


def model_id_of(run_id: str) -> str:
    return _PREFIX + run_id


def run_id_of(model_id: str) -> str:
    """The run holding a logged model; NotFound for an id loopml never gave out."""
    match = _MODEL_ID.match(model_id)
    if match is None:
        raise NotFound(f"No logged model with id {model_id[:80]!r}.")
    return match.group(1)


def run_status(model_status: str) -> RunStatus:
    """The run status standing for a logged-model status name (from ``enum_name``)."""
    if model_status not in _STATUS_TO_RUN:
        raise InvalidArgument(
            f"Invalid logged model status {model_status!r}: use LOGGED_MODEL_READY, "
            "LOGGED_MODEL_PENDING or LOGGED_MODEL_UPLOAD_FAILED."
        )
    return _STATUS_TO_RUN[model_status]


def get_model_run(client: Client, model_id: str, allow_deleted: bool = False) -> Run:
    """The run holding the logged model ``model_id``; NotFound if there is none."""
    run_id = run_id_of(model_id)
    try:
        run = client.get_run(run_id)
    except NotFound:
        run = None
    if (
        run is None
        or run.data.tags.get(MODEL_TAG) != "true"
        or (run.info.lifecycle_stage != LifecycleStage.ACTIVE and not allow_deleted)
    ):
        raise NotFound(f"No logged model with id {model_id!r}.")
    return run


def create_model_run(
    client: Client,
    experiment_id: str,
    name: str,
    source_run_id: str,
    model_type: str,
    tags: dict[str, str],
    params: Sequence[Param],
) -> Run:
    """A new PENDING logged model: a marked run of ``experiment_id``."""
    check_user_tags(list(tags))
    # Everything is checked before the first write, so a rejected model leaves nothing.
    _, checked, _ = validate_batch((), params, ())
    marked = {**tags, MODEL_TAG: "true"}
    if source_run_id:
        client.get_run(source_run_id)  # NotFound for a run that does not exist
        marked[SOURCE_RUN_TAG] = source_run_id
    if model_type:
        marked[MODEL_TYPE_TAG] = model_type
    run = client.create_run(experiment_id, tags=marked, run_name=name or None)
    if not checked:
        return run
    client.log_batch(run.info.run_id, params=checked)
    return client.get_run(run.info.run_id)


def set_model_status(client: Client, model_id: str, model_status: str) -> Run:
    """Finalize (READY, UPLOAD_FAILED) or reopen (PENDING) a logged model."""
    status = run_status(model_status)
    run_id = get_model_run(client, model_id).info.run_id
    if status.is_terminated:
        client.set_terminated(run_id, status)
    else:
        client.update_run(run_id, status=status)
    return client.get_run(run_id)


def model_artifact_uri(info: RunInfo) -> str:
    return f"{ARTIFACTS_SCHEME}/{info.experiment_id}/models/{model_id_of(info.run_id)}/artifacts"


def check_user_tags(keys: Sequence[str]) -> None:
    """Tags under ``loopml.logged_model`` hold the model's own fields: not for users."""
    for key in keys:
        if key == MODEL_TAG or key.startswith(MODEL_TAG + "."):
            raise InvalidArgument(f"Tag {key!r} is reserved for loopml's logged-model fields.")


def logged_model_json(run: Run) -> dict[str, Any]:
    """The run holding a logged model, as MLflow's ``LoggedModel``."""
    info, tags = run.info, run.data.tags
    shown = {
        k: v
        for k, v in tags.items()
        if k != "mlflow.runName" and k != MODEL_TAG and not k.startswith(MODEL_TAG + ".")
    }
    body: dict[str, Any] = {
        "model_id": model_id_of(info.run_id),
        "experiment_id": info.experiment_id,
        "name": info.run_name,
        "creation_timestamp_ms": info.start_time,
        "last_updated_timestamp_ms": info.end_time or info.start_time,
        "artifact_uri": model_artifact_uri(info),
        "status": _RUN_TO_STATUS[RunStatus(info.status)],
        "model_type": tags.get(MODEL_TYPE_TAG, ""),
        "source_run_id": tags.get(SOURCE_RUN_TAG, ""),
        "tags": tags_json(shown),
    }
    return {
        "info": body,
        "data": {"params": [{"key": k, "value": v} for k, v in run.data.params.items()]},
    }


# -- search: MLflow's logged-model filter and order, as a run filter and order -----------

_FIELDS = {
    "name": "attributes.run_name",
    "model_id": "attributes.run_id",
    "status": "attributes.status",
    "model_type": f"tags.{MODEL_TYPE_TAG}",
    "source_run_id": f"tags.{SOURCE_RUN_TAG}",
    "creation_timestamp": "attributes.start_time",
    "creation_time": "attributes.start_time",
    "last_updated_timestamp": "attributes.end_time",
    "last_updated_time": "attributes.end_time",
}
_STATUS_WORDS = {
    **{name: status.value for name, status in _STATUS_TO_RUN.items()},
    "PENDING": RunStatus.RUNNING.value,
    "READY": RunStatus.FINISHED.value,
    "FAILED": RunStatus.FAILED.value,
    "UPLOAD_FAILED": RunStatus.FAILED.value,
}


def _field(key: str, what: str) -> str:
    prefix, _, rest = key.partition(".")
    if rest and prefix in ("tag", "tags"):
        check_user_tags([rest])
        return key
    if rest and prefix in ("param", "params"):
        return key
    if rest and prefix in ("attribute", "attributes"):
        key = rest
    if key in _FIELDS:
        return _FIELDS[key]
    raise InvalidArgument(
        f"Invalid logged model {what} key {key!r}: use name, model_id, status, model_type, "
        "source_run_id, creation_timestamp, last_updated_timestamp, tags.<key> or params.<key>"
        " (model metrics are not kept by loopml yet)."
    )


def _term(key: str, rest: str) -> str:
    field = _field(key, "filter")
    if field == _FIELDS["model_id"]:
        rest = map_literals(rest, lambda v: v.removeprefix(_PREFIX))
    elif field == _FIELDS["status"]:
        rest = map_literals(rest, lambda v: _STATUS_WORDS.get(v.upper(), v))
    return field + rest


def run_filter(filter_string: str) -> str:
    """A logged-model filter as a run filter over the runs holding logged models."""
    if not filter_string.strip():
        return MODEL_FILTER
    return f"{MODEL_FILTER} AND {rewrite_terms(filter_string, _term)}"


def run_order(field_name: str, ascending: bool) -> str:
    """One ``order_by`` entry of a logged-model search as a run order clause."""
    if not field_name:
        raise InvalidArgument("Each order_by entry of a logged model search needs a field_name.")
    return f"{_field(field_name, 'order_by')} {'ASC' if ascending else 'DESC'}"
