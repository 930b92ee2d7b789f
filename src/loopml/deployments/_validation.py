"""The rules a deployment's values follow, checked before anything is written.

Names follow the registered-model rule (a deployment is often named after its
model). Model URIs must be ``models:/`` or ``runs:/``: a deployment never
names a URL, so a server following it never fetches from an address a client
chose. A rejected value raises ``InvalidArgument`` naming it and the rule.
"""

from __future__ import annotations

import math
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.core.ids import is_run_id
from loopml.core.text import check_text
from loopml.features._definitions import validate_name
from loopml.objects import validate_tree_path
from loopml.registry import parse_models_uri, validate_model_name

MAX_NAME_LENGTH = 256
MAX_URI_LENGTH = 2_000
MAX_DESCRIPTION_LENGTH = 100_000
MAX_REQUEST_ID_LENGTH = 256


def validate_deployment_name(name: object) -> str:
    """The registered-model rule: non-empty, no '/' or ':', stays itself as a path."""
    return validate_model_name(name, "deployment name")


def validate_model_uri(uri: object, what: str = "model_uri") -> str:
    """``models:/<name>/<version>``, ``models:/<name>@<alias>`` or ``runs:/<run id>/<path>``."""
    text = check_text(uri, what, MAX_URI_LENGTH)
    if text.startswith("models:/"):
        try:
            parse_models_uri(text)
        except InvalidArgument as exc:
            raise InvalidArgument(f"Invalid {what}: {exc.message}") from exc
        return text
    if text.startswith("runs:/"):
        run_id, _, path = text[len("runs:/") :].lstrip("/").partition("/")
        if not is_run_id(run_id):
            raise InvalidArgument(
                f"Invalid {what} {text!r}: {run_id!r} is not a run id (32 lowercase hex "
                "characters)."
            )
        path = path.rstrip("/")
        if path not in ("", "."):
            try:
                validate_tree_path(path)
            except InvalidArgument as exc:
                raise InvalidArgument(f"Invalid {what} {text!r}: {exc.message}") from exc
        return text
    raise InvalidArgument(
        f"Invalid {what} {text[:80]!r}: a deployment serves registered or logged models only: "
        "give models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>/<path> "
        "(URLs are not accepted)."
    )


def validate_optional_uri(uri: object, what: str) -> str | None:
    return None if uri is None else validate_model_uri(uri, what)


def validate_weight(weight: object) -> float:
    """A canary share of traffic: a number from 0 to 1."""
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InvalidArgument(f"Invalid canary_weight {weight!r}: give a number from 0 to 1.")
    value = float(weight)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidArgument(f"Invalid canary_weight {weight!r}: give a number from 0 to 1.")
    return value


def validate_feature_service(name: object) -> str | None:
    """None (requests carry the model's inputs) or a feature service's name."""
    return None if name is None else validate_name(name, "feature service")


def validate_description(description: object) -> str:
    if description is None:
        return ""
    return check_text(description, "description", MAX_DESCRIPTION_LENGTH)


def validate_request_id(request_id: object) -> str:
    if isinstance(request_id, int) and not isinstance(request_id, bool):
        request_id = str(request_id)
    text = check_text(request_id, "request_id", MAX_REQUEST_ID_LENGTH)
    if not text:
        raise InvalidArgument("Invalid request_id '': it must not be empty.")
    return text


def check_bound(value: Any, what: str, *, minimum: float, integer: bool) -> Any:
    """A positive setting of the prediction logger (``minimum`` included)."""
    kind_ok = isinstance(value, int) or (not integer and isinstance(value, float))
    if isinstance(value, bool) or not kind_ok or not value >= minimum:
        raise InvalidArgument(f"Invalid {what} {value!r}: give a number of at least {minimum}.")
    return value
