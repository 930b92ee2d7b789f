"""The URIs the registry reads: ``runs:/<run>/<path>`` (files) and ``models:/...`` (versions)."""

from __future__ import annotations

from dataclasses import dataclass

from loopml.core.errors import InvalidArgument
from loopml.core.ids import is_run_id
from loopml.objects import validate_tree_path
from loopml.registry._validation import validate_alias, validate_model_name, validate_stage
from loopml.store import Stage

RUNS_SCHEME = "runs:/"
MODELS_SCHEME = "models:/"


def parse_runs_uri(uri: object, what: str = "files_source") -> tuple[str, str]:
    """``runs:/<run id>[/<artifact path>]`` as (run id, path); "" is the run's root.

    The path is confined to the run's artifacts (relative, normalized, no '..'):
    only files a run logged can become a version, never an arbitrary location.
    """
    if not isinstance(uri, str) or not uri.startswith(RUNS_SCHEME):
        raise InvalidArgument(
            f"Invalid {what} {uri!r}: give runs:/<run_id> or runs:/<run_id>/<artifact path>, "
            "e.g. runs:/0123456789abcdef0123456789abcdef/model."
        )
    run_id, _, path = uri[len(RUNS_SCHEME) :].lstrip("/").partition("/")
    if not is_run_id(run_id):
        raise InvalidArgument(
            f"Invalid {what} {uri!r}: {run_id!r} is not a run id (32 lowercase hex characters)."
        )
    path = path.rstrip("/")
    if path in ("", "."):
        return run_id, ""
    try:
        return run_id, validate_tree_path(path)
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"Invalid {what} {uri!r}: {exc.message}. The path must stay inside the run's artifacts."
        ) from exc


@dataclass(frozen=True, slots=True)
class ModelReference:
    """A parsed ``models:/`` URI: exactly one of version, alias, stage, or latest."""

    name: str
    version: int | None = None
    alias: str | None = None
    stage: Stage | None = None
    latest: bool = False


def parse_models_uri(uri: object) -> ModelReference:
    """``models:/<name>/<version>``, ``models:/<name>@<alias>``, ``/latest`` or ``/<stage>``."""
    if not isinstance(uri, str) or not uri.startswith(MODELS_SCHEME):
        raise InvalidArgument(
            f"Invalid model URI {uri!r}: use models:/<name>/<version> or models:/<name>@<alias>."
        )
    rest = uri[len(MODELS_SCHEME) :].lstrip("/")
    if "/" in rest:
        name, _, suffix = rest.partition("/")
        name = validate_model_name(name)
        if suffix.isdigit() and len(suffix) < 12:
            return ModelReference(name, version=int(suffix))
        if suffix.lower() == "latest":
            return ModelReference(name, latest=True)
        try:
            return ModelReference(name, stage=validate_stage(suffix))
        except InvalidArgument:
            pass
    elif "@" in rest:
        name, _, alias = rest.rpartition("@")
        return ModelReference(validate_model_name(name), alias=validate_alias(alias))
    raise InvalidArgument(
        f"Invalid model URI {uri!r}: use models:/<name>/<version> (e.g. models:/fraud/3), "
        "models:/<name>@<alias> (e.g. models:/fraud@champion) or models:/<name>/latest."
    )
