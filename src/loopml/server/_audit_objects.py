"""Which object a request acts on, read from its route template and path parameters.

``/api/v1/registry/models/{name}/aliases/{alias}`` acts on the registered model
``name@alias``; ``/api/v1/runs/{run_id}/batch`` on the run ``run_id``;
``/api/v1/registry/models/{name}/versions/{version}`` on the model version
``name/version``. The last known collection before the first path parameter names the
object's type, and that parameter its id. Routes whose object is in the
JSON body (the MLflow API, ``POST /experiments``) get the id from a query
parameter such as ``run_id``, else an empty id: bodies are never read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import Scope

# Path prefixes that are not objects.
_PREFIXES = frozenset({"api", "v1", "2.0", "mlflow", "mlflow-artifacts", "registry", "ajax-api"})

_TYPES = {
    "experiments": "experiment",
    "runs": "run",
    "models": "registered_model",
    "registered-models": "registered_model",
    "model-versions": "model_version",
    "logged-models": "logged_model",
    "deployments": "deployment",
    "datasets": "dataset",
    "dataset-content": "dataset_content",
    "pipelines": "pipeline",
    "schedules": "pipeline_schedule",
    "cache": "step_cache",
    "monitors": "monitor",
    "alerts": "alert_rule",
    "rules": "alert_rule",
    "objects": "object",
    "policies": "policy",
    "policy-runs": "policy_run",
    "features": "feature",
    "artifacts": "artifact",
    "users": "user",
    "tokens": "token",
    "workspaces": "workspace",
}

# Sub-collections that narrow the object: (parent type, segment) -> (type, separator).
_NARROWING = {
    ("registered_model", "versions"): ("model_version", "/"),
    ("registered_model", "aliases"): ("registered_model", "@"),
    ("dataset", "versions"): ("dataset_version", "/"),
}

# Query parameters that name the object when the path does not (MLflow-style routes).
_ID_PARAMS = ("run_id", "experiment_id", "model_id", "name", "id")

# POST routes that only read: searches and lookups are not changes.
READ_ONLY_POSTS = frozenset(
    {
        "/api/v1/runs/search",
        "/api/v1/dataset-content/missing",
        "/api/v1/pipelines/cache/lookup",
        "/api/v1/features/online",
        "/api/2.0/mlflow/experiments/search",
        "/api/2.0/mlflow/runs/search",
        "/api/2.0/mlflow/logged-models/search",
        "/api/2.0/mlflow/registered-models/get-latest-versions",
    }
)


# Routes whose handlers write their own, richer audit entries (``server._auth_events``):
# logins and logouts always (failures too), token changes when they succeed.
SELF_AUDITED = {
    "/login": True,
    "/logout": True,
    "/api/v1/auth/tokens": False,
    "/api/v1/auth/tokens/{token_id}": False,
}


def recorded_by_handler(template: str, status: int) -> bool:
    """Whether the route's handler recorded this answer itself (so the middleware does not)."""
    if template not in SELF_AUDITED:
        return False
    return SELF_AUDITED[template] or status < 400


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/api/v1/runs/{run_id}``); "" if none matched.

    FastAPI keeps the template with its router prefixes in its effective route
    context; without it, the prefix is what the path has before the route's own
    template filled in with the path parameters.
    """
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if isinstance(template, str):
        return template
    route = scope.get("route")
    own = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(own, str):
        return ""
    filled = own
    for key, value in (scope.get("path_params") or {}).items():
        filled = filled.replace("{" + key + "}", str(value)).replace(
            "{" + key + ":path}", str(value)
        )
    path = str(scope.get("path", ""))
    prefix = path[: -len(filled)] if filled and path.endswith(filled) else ""
    return prefix + own


def _parameter(segment: str) -> str | None:
    if segment.startswith("{") and segment.endswith("}"):
        return segment[1:-1].split(":", 1)[0]
    return None


def object_of(
    template: str, path_params: Mapping[str, Any], query: Mapping[str, Any]
) -> tuple[str, str]:
    """``(object_type, object_id)`` of a request to ``template`` (the id "" when unknown).

    The type is the last known collection before the first parameter, whose value
    is the id; a later known sub-collection (versions, aliases) narrows both.
    """
    segments = [s for s in template.split("/") if s and s not in _PREFIXES]
    object_type, object_id, first_literal = "", "", ""
    previous = ""
    for segment in segments:
        name = _parameter(segment)
        if name is None:
            first_literal = first_literal or segment
            if not object_id and segment in _TYPES:
                object_type = _TYPES[segment]
            previous = segment
            continue
        value = str(path_params.get(name, ""))
        narrowed = _NARROWING.get((object_type, previous))
        if not object_id:
            object_id = value
        elif narrowed is not None:
            object_type, separator = narrowed
            object_id = f"{object_id}{separator}{value}"
        previous = ""
    if not object_type:
        object_type = first_literal.replace("-", "_")
    if not object_id:
        object_id = next((str(query[k]) for k in _ID_PARAMS if query.get(k)), "")
    return object_type, object_id
