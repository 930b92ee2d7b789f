"""Where a new model version's files are: MLflow's ``source`` string as a loopml run path.

The registry snapshots a version's files from a run's artifacts (``files_source``,
always ``runs:/<run_id>[/<path>]``) and keeps MLflow's ``source`` string verbatim for
display. The sources the mlflow client sends, and what they map to:

    models:/m-<id>                              a logged model: the root of the run holding it
                                                (MLflow 3 ``log_model(registered_model_name=)``)
    runs:/<run_id>[/<path>]                     that run's artifacts (at that path)
    mlflow-artifacts:/<exp>/<run_id>/artifacts/<path>
                                                the same, as MLflow 2 clients send it
    mlflow-artifacts:/<exp>/models/m-<id>/artifacts/<path>
                                                a path in a logged model
    models:/<name>/<version>, models:/<name>@<alias>
                                                another version: the files of its own source,
                                                provided they still are the ones it snapshotted

Anything else (``s3://``, ``file:``, local paths, ``http(s)://``, an ``mlflow-artifacts``
URI naming another host) is refused: the server never fetches from an address a client
names. Everything is checked before the registry writes anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from loopml.core.errors import InvalidArgument, InvalidState
from loopml.registry import Registry
from loopml.server.mlflow._artifacts import resolve, safe_path
from loopml.server.mlflow._model_runs import SOURCE_RUN_TAG, get_model_run, run_id_of
from loopml.tracking import Client

_LOGGED_MODEL_URI = re.compile(r"^models:/(m-[0-9a-f]{32})/?$")
_ACCEPTED = (
    "runs:/<run_id>/<path>, models:/<model_id> (a logged model), models:/<name>/<version>, "
    "or mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path> on this server"
)


@dataclass(frozen=True)
class VersionSource:
    """What ``Registry.create_model_version`` needs besides the source string itself."""

    source: str
    files_source: str
    run_id: str | None
    model_id: str | None


def _refuse(source: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid model version source {source[:300]!r}: {why}")


def _checked_path(source: str, raw: str) -> str:
    try:
        return safe_path(raw)
    except InvalidArgument as exc:
        raise _refuse(source, exc.message) from None


def _runs_path(run_id: str, path: str) -> str:
    return f"runs:/{run_id}/{path}" if path else f"runs:/{run_id}"


def _from_logged_model(
    client: Client, source: str, model_id: str, path: str, run_id: str, given_model_id: str
) -> VersionSource:
    if given_model_id and given_model_id != model_id:
        raise _refuse(source, f"it is in logged model {model_id}, not in {given_model_id!r}.")
    run = get_model_run(client, model_id)
    if run_id:
        client.get_run(run_id)  # NotFound for a run that does not exist
    lineage = run_id or run.data.tags.get(SOURCE_RUN_TAG) or None
    return VersionSource(source, _runs_path(run.info.run_id, path), lineage, model_id)


def _from_run(
    client: Client, source: str, source_run: str, path: str, run_id: str, model_id: str
) -> VersionSource:
    if run_id and run_id != source_run:
        raise _refuse(source, f"it is in run {source_run}, not in run {run_id!r}.")
    if model_id:
        raise _refuse(source, f"it is in a run, not in logged model {model_id!r}.")
    client.get_run(source_run)  # NotFound for a run that does not exist
    return VersionSource(source, _runs_path(source_run, path), source_run, None)


def _from_runs_uri(client: Client, source: str, run_id: str, model_id: str) -> VersionSource:
    parts = urlsplit(source)
    if parts.netloc or parts.query or parts.fragment:
        raise _refuse(source, "a runs:/ URI names a run of this server: runs:/<run_id>/<path>.")
    source_run, _, raw_path = parts.path.lstrip("/").partition("/")
    if not source_run:
        raise _refuse(source, "it names no run: use runs:/<run_id>/<path>.")
    return _from_run(client, source, source_run, _checked_path(source, raw_path), run_id, model_id)


def _from_proxy_uri(client: Client, source: str, run_id: str, model_id: str) -> VersionSource:
    parts = urlsplit(source)
    if parts.netloc or parts.query or parts.fragment:
        raise _refuse(source, "it names another server; register from this server's artifacts.")
    raw = parts.path.lstrip("/")
    if raw.split("/", 1)[0] == "registry":
        raise _refuse(source, "it is a registered version's files: use models:/<name>/<version>.")
    segments = _checked_path(source, raw).split("/")
    target = resolve(client, raw)
    if len(segments) >= 4 and segments[1] == "models":
        return _from_logged_model(client, source, segments[2], target.path, run_id, model_id)
    return _from_run(client, source, target.run.info.run_id, target.path, run_id, model_id)


def _from_version(
    client: Client, registry: Registry, source: str, run_id: str, model_id: str
) -> VersionSource:
    """Another registered version: register the same files (its source, unchanged since)."""
    try:
        original = registry.resolve(source)
    except InvalidArgument as exc:
        raise _refuse(source, f"{exc.message} Accepted sources: {_ACCEPTED}.") from None
    canonical = f"models:/{original.name}/{original.version}"
    if (run_id and run_id != (original.run_id or "")) or (
        model_id and model_id != (original.model_id or "")
    ):
        raise _refuse(source, "run_id and model_id must match the version it names.")
    if original.source.startswith("models:/") and not _LOGGED_MODEL_URI.match(original.source):
        inner = _from_version(client, registry, original.source, "", "")
    else:
        inner = _mapped(client, original.source, "", "")
    _check_unchanged(client, registry, original.name, original.version, inner.files_source)
    return VersionSource(canonical, inner.files_source, original.run_id, original.model_id)


def _check_unchanged(
    client: Client, registry: Registry, name: str, version: int, files_source: str
) -> None:
    """Refuse to copy a version whose source files changed after it was made."""
    run_id, _, prefix = files_source.removeprefix("runs:/").partition("/")
    base = prefix + "/" if prefix else ""
    now = {
        e.path[len(base) :]: e.blob_id
        for e in client.list_artifact_entries(run_id, prefix)
        if e.path.startswith(base)
    }
    then = {f.path: f.blob_id for f in registry.model_version_files(name, version)}
    if now != then:
        raise InvalidState(
            f"The files of version {version} of registered model {name!r} have changed in "
            "its source since it was registered: register from the source itself instead."
        )


def _mapped(client: Client, source: str, run_id: str, model_id: str) -> VersionSource:
    logged = _LOGGED_MODEL_URI.match(source)
    if logged:
        return _from_logged_model(client, source, logged.group(1), "", run_id, model_id)
    scheme = source.partition(":")[0].lower() if ":" in source else ""
    if scheme == "runs":
        return _from_runs_uri(client, source, run_id, model_id)
    if scheme == "mlflow-artifacts":
        return _from_proxy_uri(client, source, run_id, model_id)
    raise _refuse(source, f"loopml registers models from {_ACCEPTED}.")


def version_source(
    client: Client, registry: Registry, source: str, run_id: str, model_id: str
) -> VersionSource:
    """The files, run and logged model behind MLflow's ``source``; nothing is written.

    InvalidArgument for a source loopml does not serve or that contradicts ``run_id`` /
    ``model_id``; NotFound for a run, logged model or version that does not exist.
    """
    if not source:
        raise InvalidArgument("Missing value for required parameter 'source'.")
    if model_id:
        run_id_of(model_id)  # NotFound for an id loopml never gave out
    if source.startswith("models:") and not _LOGGED_MODEL_URI.match(source):
        if urlsplit(source).netloc:
            raise _refuse(source, "it names another registry; use models:/<name>/<version>.")
        return _from_version(client, registry, source, run_id, model_id)
    return _mapped(client, source, run_id, model_id)
