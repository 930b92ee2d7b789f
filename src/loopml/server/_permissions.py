"""What every route of the server needs: one declarative table, read by ``_authorization``.

Each route (``"METHOD /path/template"``) maps to the checks a caller must pass:
an ``Action`` (read, write, maintain, administer) in the workspace that owns the
object the request names. The owner is found from the request by a ``Target``:
an object named by a path parameter, a query parameter or a JSON body field (an
experiment, a run, a registered model, a dataset, a deployment, a policy, an
``mlflow-artifacts`` path, a ``models:/`` URI), the request's own workspace for
creations, or nothing (``Public``, ``SignedIn``, ``GlobalAdmin``). Listings
(``Listing``) need no single workspace: their results are limited to the
workspaces the caller may read (see ``loopml.store.visible_workspaces``).

A route missing from this table is refused with 403 (fail closed), and a test
walks the application's routes so that a new route cannot ship unlisted.

Objects that belong to another object follow their owner: a monitor (its
results, report and alert events) is in its deployment's workspace, an alert
rule in its monitor's, a policy run or event in its policy's. Objects with no
owner (pipeline schedules and cache, feature definitions) belong to "default".
"""

from __future__ import annotations

from dataclasses import dataclass

from loopml.governance import DEFAULT_WORKSPACE, Action

# -- where a value comes from -------------------------------------------------------------


@dataclass(frozen=True)
class PathParam:
    name: str


@dataclass(frozen=True)
class QueryParam:
    name: str


@dataclass(frozen=True)
class BodyField:
    """A field of the JSON body; dots walk into objects (``policy.name``)."""

    name: str


@dataclass(frozen=True)
class MlflowField:
    """An MLflow message field: the query string of a GET, else the JSON body.

    Any of ``names`` (the first present wins), each also accepted in camelCase.
    """

    names: tuple[str, ...]


@dataclass(frozen=True)
class BodyTag:
    """The value of tag ``key`` in the body's MLflow-style tag list ``field``: [{key, value}]."""

    field: str
    key: str


Source = PathParam | QueryParam | BodyField | MlflowField | BodyTag


def mlflow(*names: str) -> MlflowField:
    return MlflowField(names)


# -- how the owning workspace is found ------------------------------------------------------


@dataclass(frozen=True)
class Public:
    """No check: health, login, API docs, static files (authentication decides who gets in)."""


@dataclass(frozen=True)
class SignedIn:
    """Any authenticated caller; the handler limits it to the caller's own things."""


@dataclass(frozen=True)
class GlobalAdmin:
    """Only global admins (users, workspaces)."""


@dataclass(frozen=True)
class Fixed:
    """Objects that no workspace owns, kept in one workspace (default)."""

    workspace: str = DEFAULT_WORKSPACE


@dataclass(frozen=True)
class RequestWorkspace:
    """The workspace the request acts in (``X-Loopml-Workspace`` or ``?workspace=``)."""


@dataclass(frozen=True)
class Listing:
    """A listing or search: allowed to anyone signed in, results limited to readable workspaces."""


@dataclass(frozen=True)
class Named:
    """An object of ``kind`` keyed by the value of ``source``; optional ones may be absent."""

    kind: str
    source: Source
    optional: bool = False


@dataclass(frozen=True)
class ExperimentByName:
    source: Source


@dataclass(frozen=True)
class Runs:
    """One or more runs by id (each run's experiment's workspace)."""

    source: Source
    optional: bool = False


@dataclass(frozen=True)
class Experiments:
    """One or more experiments by id (a run search names several)."""

    source: Source


@dataclass(frozen=True)
class LoggedModel:
    """An MLflow logged model by id: it is a run, in its experiment's workspace."""

    source: Source


@dataclass(frozen=True)
class ArtifactPath:
    """An ``mlflow-artifacts`` path: ``<experiment>/<run>/...`` or ``registry/<model>/...``."""

    source: Source
    encoded_name: bool = False


@dataclass(frozen=True)
class ModelUri:
    """What a URI points at: ``models:/``, ``runs:/``, ``datasets:/``, ``deployments:/``,
    ``mlflow-artifacts:/`` (other URIs name no stored object and need nothing)."""

    source: Source


@dataclass(frozen=True)
class Workspace:
    """A workspace named in the request (its member management)."""

    source: Source


@dataclass(frozen=True)
class MonitorName:
    """A monitor by name: in its deployment's workspace."""

    source: Source


@dataclass(frozen=True)
class AlertRuleName:
    """An alert rule by name: in its monitor's (so its deployment's) workspace."""

    source: Source


@dataclass(frozen=True)
class PolicyRunId:
    """A policy run by id: in its policy's workspace."""

    source: Source


@dataclass(frozen=True)
class Create:
    """A new ``kind`` named by ``source``, made in the request's workspace and assigned there.

    ``workspace_tag``, when set, names a tag of the body that may name the workspace
    instead of the header (the MLflow client sends no extra headers, only tags).
    If the object exists already (an upsert, a new dataset version), its own workspace is
    checked instead and nothing is assigned.
    """

    kind: str
    source: Source
    workspace_tag: Source | None = None


@dataclass(frozen=True)
class Rename:
    """A name-keyed object renamed: the new name keeps the old one's workspace."""

    kind: str
    old: Source
    new: Source


Target = (
    Public
    | SignedIn
    | GlobalAdmin
    | Fixed
    | RequestWorkspace
    | Listing
    | Named
    | ExperimentByName
    | Runs
    | Experiments
    | LoggedModel
    | ArtifactPath
    | ModelUri
    | Workspace
    | MonitorName
    | AlertRuleName
    | PolicyRunId
    | Create
    | Rename
)


@dataclass(frozen=True)
class Check:
    action: Action
    target: Target


Requirement = tuple[Check, ...]

READ, WRITE, MAINTAIN, ADMINISTER = Action.READ, Action.WRITE, Action.MAINTAIN, Action.ADMINISTER


def needs(action: Action, *targets: Target) -> Requirement:
    return tuple(Check(action, target) for target in targets)


def also(*parts: Requirement) -> Requirement:
    return tuple(check for part in parts for check in part)


PUBLIC = needs(READ, Public())
SIGNED_IN = needs(READ, SignedIn())
ADMINS = needs(ADMINISTER, GlobalAdmin())
LIST = needs(READ, Listing())


# Shorthands for the sources used most.
EXP_PATH = Named("experiment", PathParam("experiment_id"))
RUN_PATH = Runs(PathParam("run_id"))
MODEL_PATH = Named("registered_model", PathParam("name"))
DEPLOYMENT_PATH = Named("deployment", PathParam("name"))
DATASET_PATH = Named("dataset", PathParam("name"))
POLICY_PATH = Named("policy", PathParam("name"))
ML_EXP = Named("experiment", mlflow("experiment_id"))
ML_RUN = Runs(mlflow("run_id", "run_uuid"))
ML_MODEL = Named("registered_model", mlflow("name"))
LOGGED = LoggedModel(PathParam("model_id"))
GLOBAL = Fixed()
MONITOR_PATH = MonitorName(PathParam("name"))
RULE_PATH = AlertRuleName(PathParam("name"))
# The tag the MLflow client can send at creation to name the new object's workspace.
WORKSPACE_TAG = BodyTag("tags", "loopml.workspace")
# A version's files may come from a run of another workspace: reading that run is needed too.
ML_VERSION_SOURCES = needs(
    READ,
    Runs(mlflow("run_id"), optional=True),
    ModelUri(mlflow("source")),
)
NATIVE_VERSION_SOURCES = needs(
    READ,
    Runs(BodyField("run_id"), optional=True),
    ModelUri(BodyField("source")),
    ModelUri(BodyField("files_source")),
)
DEPLOYED_MODELS = needs(
    READ,
    ModelUri(BodyField("model_uri")),
    ModelUri(BodyField("canary_uri")),
    ModelUri(BodyField("shadow_uri")),
)

V1 = "/api/v1"
ML = "/api/2.0/mlflow"
MLA = "/api/2.0/mlflow-artifacts/artifacts"
REG = f"{V1}/registry/models/{{name}}"
VER = f"{REG}/versions/{{version}}"

PERMISSIONS: dict[str, Requirement] = {
    # -- outside any workspace ------------------------------------------------------------
    "GET /openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /static/{path}": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /health": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": SIGNED_IN,
    f"GET {V1}/auth/whoami": SIGNED_IN,
    f"POST {V1}/auth/tokens": SIGNED_IN,
    f"GET {V1}/auth/tokens": SIGNED_IN,
    f"DELETE {V1}/auth/tokens/{{token_id}}": SIGNED_IN,
    f"GET {V1}/users": ADMINS,
    f"POST {V1}/users": ADMINS,
    f"POST {V1}/users/{{name}}/disable": ADMINS,
    f"GET {V1}/workspaces": ADMINS,
    f"GET {V1}/audit": ADMINS,
    f"GET {V1}/audit/verify": ADMINS,
    f"GET {V1}/audit/export": ADMINS,
    "GET /audit": ADMINS,
    "GET /audit/verify": ADMINS,
    f"POST {V1}/workspaces": ADMINS,
    f"GET {V1}/workspaces/{{workspace}}/members": needs(
        ADMINISTER, Workspace(PathParam("workspace"))
    ),
    f"PUT {V1}/workspaces/{{workspace}}/members/{{user}}": needs(
        ADMINISTER, Workspace(PathParam("workspace"))
    ),
    f"DELETE {V1}/workspaces/{{workspace}}/members/{{user}}": needs(
        ADMINISTER, Workspace(PathParam("workspace"))
    ),
    # -- native experiments and runs ---------------------------------------------------------
    f"POST {V1}/experiments": needs(WRITE, Create("experiment", BodyField("name"))),
    f"GET {V1}/experiments": LIST,
    f"GET {V1}/experiments/by-name": needs(READ, ExperimentByName(QueryParam("name"))),
    f"GET {V1}/experiments/{{experiment_id}}": needs(READ, EXP_PATH),
    f"PATCH {V1}/experiments/{{experiment_id}}": needs(WRITE, EXP_PATH),
    f"DELETE {V1}/experiments/{{experiment_id}}": needs(MAINTAIN, EXP_PATH),
    f"POST {V1}/experiments/{{experiment_id}}/restore": needs(MAINTAIN, EXP_PATH),
    f"POST {V1}/experiments/{{experiment_id}}/tags": needs(WRITE, EXP_PATH),
    f"DELETE {V1}/experiments/{{experiment_id}}/tags/{{key}}": needs(WRITE, EXP_PATH),
    f"POST {V1}/runs": needs(WRITE, Named("experiment", BodyField("experiment_id"))),
    f"POST {V1}/runs/search": needs(READ, Experiments(BodyField("experiment_ids"))),
    f"GET {V1}/runs/{{run_id}}": needs(READ, RUN_PATH),
    f"PATCH {V1}/runs/{{run_id}}": needs(WRITE, RUN_PATH),
    f"POST {V1}/runs/{{run_id}}/terminate": needs(WRITE, RUN_PATH),
    f"DELETE {V1}/runs/{{run_id}}": needs(MAINTAIN, RUN_PATH),
    f"POST {V1}/runs/{{run_id}}/restore": needs(MAINTAIN, RUN_PATH),
    f"POST {V1}/runs/{{run_id}}/batch": needs(WRITE, RUN_PATH),
    f"DELETE {V1}/runs/{{run_id}}/tags/{{key}}": needs(WRITE, RUN_PATH),
    f"GET {V1}/runs/{{run_id}}/metrics/{{key}}": needs(READ, RUN_PATH),
    f"POST {V1}/runs/{{run_id}}/inputs": needs(WRITE, RUN_PATH),
    f"PUT {V1}/runs/{{run_id}}/artifacts/{{path}}": needs(WRITE, RUN_PATH),
    f"GET {V1}/runs/{{run_id}}/artifacts": needs(READ, RUN_PATH),
    f"GET {V1}/runs/{{run_id}}/artifacts/{{path}}": needs(READ, RUN_PATH),
    f"GET {V1}/runs/{{run_id}}/artifact-entries": needs(READ, RUN_PATH),
    f"POST {V1}/runs/{{run_id}}/artifact-entries": needs(WRITE, RUN_PATH),
    # -- native registry ---------------------------------------------------------------------
    f"POST {V1}/registry/models": needs(WRITE, Create("registered_model", BodyField("name"))),
    f"GET {V1}/registry/models": LIST,
    f"GET {REG}": needs(READ, MODEL_PATH),
    f"PATCH {REG}": needs(WRITE, MODEL_PATH),
    f"POST {REG}/rename": needs(
        MAINTAIN, Rename("registered_model", PathParam("name"), BodyField("new_name"))
    ),
    f"DELETE {REG}": needs(MAINTAIN, MODEL_PATH),
    f"POST {REG}/tags": needs(WRITE, MODEL_PATH),
    f"DELETE {REG}/tags/{{key}}": needs(WRITE, MODEL_PATH),
    f"GET {REG}/latest-versions": needs(READ, MODEL_PATH),
    f"POST {REG}/versions": also(needs(WRITE, MODEL_PATH), NATIVE_VERSION_SOURCES),
    f"GET {V1}/registry/versions": LIST,
    f"GET {VER}": needs(READ, MODEL_PATH),
    f"PATCH {VER}": needs(WRITE, MODEL_PATH),
    f"DELETE {VER}": needs(MAINTAIN, MODEL_PATH),
    f"POST {VER}/tags": needs(WRITE, MODEL_PATH),
    f"DELETE {VER}/tags/{{key}}": needs(WRITE, MODEL_PATH),
    f"POST {VER}/stage": needs(MAINTAIN, MODEL_PATH),
    f"GET {VER}/files": needs(READ, MODEL_PATH),
    f"GET {VER}/files/{{path}}": needs(READ, MODEL_PATH),
    f"GET {VER}/card": needs(READ, MODEL_PATH),
    f"GET {V1}/lineage": needs(READ, ModelUri(QueryParam("uri")), Listing()),
    f"GET {V1}/registry/resolve": needs(READ, ModelUri(QueryParam("uri"))),
    f"GET {REG}/aliases/{{alias}}": needs(READ, MODEL_PATH),
    f"PUT {REG}/aliases/{{alias}}": needs(MAINTAIN, MODEL_PATH),
    f"DELETE {REG}/aliases/{{alias}}": needs(MAINTAIN, MODEL_PATH),
    f"GET {REG}/alias-history": needs(READ, MODEL_PATH),
    f"POST {REG}/promote": needs(MAINTAIN, MODEL_PATH),
    f"POST {REG}/aliases/{{alias}}/rollback": needs(MAINTAIN, MODEL_PATH),
    # -- deployments, datasets -------------------------------------------------------------
    f"POST {V1}/deployments": also(
        needs(MAINTAIN, Create("deployment", BodyField("name"))), DEPLOYED_MODELS
    ),
    f"GET {V1}/deployments": LIST,
    f"GET {V1}/deployments/{{name}}": needs(READ, DEPLOYMENT_PATH),
    f"PATCH {V1}/deployments/{{name}}": also(needs(MAINTAIN, DEPLOYMENT_PATH), DEPLOYED_MODELS),
    f"DELETE {V1}/deployments/{{name}}": needs(MAINTAIN, DEPLOYMENT_PATH),
    f"POST {V1}/deployments/{{name}}/labels": needs(WRITE, DEPLOYMENT_PATH),
    f"GET {V1}/deployments/{{name}}/labels": needs(READ, DEPLOYMENT_PATH),
    f"GET {V1}/deployments/{{name}}/predictions": needs(READ, DEPLOYMENT_PATH),
    f"POST {V1}/deployments/{{name}}/predictions": needs(WRITE, DEPLOYMENT_PATH),
    f"GET {V1}/deployments/{{name}}/predictions/{{segment_id}}": needs(READ, DEPLOYMENT_PATH),
    f"POST {V1}/datasets/{{name}}/versions": needs(WRITE, Create("dataset", PathParam("name"))),
    f"GET {V1}/datasets": LIST,
    f"GET {V1}/datasets/{{name}}/versions": needs(READ, DATASET_PATH),
    f"GET {V1}/datasets/{{name}}/versions/{{version}}": needs(READ, DATASET_PATH),
    # Content-addressed blobs a dataset version will point at: written in the caller's workspace.
    f"POST {V1}/dataset-content/missing": needs(WRITE, RequestWorkspace()),
    f"PUT {V1}/dataset-content/objects/{{object_id}}": needs(WRITE, RequestWorkspace()),
    f"POST {V1}/dataset-content/trees": needs(WRITE, RequestWorkspace()),
    # -- pipelines and features: not owned by a workspace ------------------------------------
    f"POST {V1}/pipelines/schedules": needs(WRITE, GLOBAL),
    f"GET {V1}/pipelines/schedules": needs(READ, GLOBAL),
    f"GET {V1}/pipelines/schedules/{{name}}": needs(READ, GLOBAL),
    f"DELETE {V1}/pipelines/schedules/{{name}}": needs(MAINTAIN, GLOBAL),
    f"POST {V1}/pipelines/cache/lookup": needs(READ, RequestWorkspace()),
    f"PUT {V1}/pipelines/cache/{{key}}": needs(WRITE, RequestWorkspace()),
    # -- monitors and alerts: in their deployment's workspace --------------------------------
    f"POST {V1}/monitors": needs(MAINTAIN, Named("deployment", BodyField("deployment"))),
    f"GET {V1}/monitors": LIST,
    f"GET {V1}/monitors/{{name}}": needs(READ, MONITOR_PATH),
    f"DELETE {V1}/monitors/{{name}}": needs(MAINTAIN, MONITOR_PATH),
    f"POST {V1}/monitors/{{name}}/run": needs(MAINTAIN, MONITOR_PATH),
    f"GET {V1}/monitors/{{name}}/results": needs(READ, MONITOR_PATH),
    f"GET {V1}/monitors/{{name}}/report": needs(READ, MONITOR_PATH),
    f"POST {V1}/alerts/rules": needs(MAINTAIN, MonitorName(BodyField("monitor"))),
    f"GET {V1}/alerts/rules": LIST,
    f"GET {V1}/alerts/rules/{{name}}": needs(READ, RULE_PATH),
    f"PATCH {V1}/alerts/rules/{{name}}": needs(MAINTAIN, RULE_PATH),
    f"DELETE {V1}/alerts/rules/{{name}}": needs(MAINTAIN, RULE_PATH),
    f"GET {V1}/alerts/events": LIST,
    # -- policies, their runs and events ------------------------------------------------------
    f"POST {V1}/policies": needs(MAINTAIN, Create("policy", BodyField("policy.name"))),
    f"GET {V1}/policies": LIST,
    f"GET {V1}/policies/{{name}}": needs(READ, POLICY_PATH),
    f"PUT {V1}/policies/{{name}}": needs(MAINTAIN, POLICY_PATH),
    f"DELETE {V1}/policies/{{name}}": needs(MAINTAIN, POLICY_PATH),
    f"POST {V1}/policies/{{name}}/trigger": needs(MAINTAIN, POLICY_PATH),
    f"POST {V1}/policy-runs/poll": needs(MAINTAIN, GLOBAL),
    f"POST {V1}/policy-runs/tick": needs(MAINTAIN, GLOBAL),
    f"GET {V1}/policy-runs": LIST,
    f"GET {V1}/policy-runs/{{run_id}}": needs(READ, PolicyRunId(PathParam("run_id"))),
    f"GET {V1}/policy-events": LIST,
    f"POST {V1}/features/apply": needs(WRITE, GLOBAL),
    f"GET {V1}/features/definitions": needs(READ, GLOBAL),
    f"GET {V1}/features/definitions/{{kind}}/{{name}}": needs(READ, GLOBAL),
    f"GET {V1}/features/definitions/{{kind}}/{{name}}/versions": needs(READ, GLOBAL),
    f"POST {V1}/features/materializations": needs(WRITE, GLOBAL),
    f"GET {V1}/features/materializations/{{view}}": needs(READ, GLOBAL),
    f"POST {V1}/features/online": needs(READ, GLOBAL),
    # -- MLflow experiments and runs ------------------------------------------------------
    f"POST {ML}/experiments/create": needs(
        WRITE, Create("experiment", mlflow("name"), WORKSPACE_TAG)
    ),
    f"GET {ML}/experiments/get": needs(READ, ML_EXP),
    f"GET {ML}/experiments/get-by-name": needs(READ, ExperimentByName(mlflow("experiment_name"))),
    f"GET {ML}/experiments/search": LIST,
    f"POST {ML}/experiments/search": LIST,
    f"POST {ML}/experiments/update": needs(WRITE, ML_EXP),
    f"POST {ML}/experiments/delete": needs(MAINTAIN, ML_EXP),
    f"POST {ML}/experiments/restore": needs(MAINTAIN, ML_EXP),
    f"POST {ML}/experiments/set-experiment-tag": needs(WRITE, ML_EXP),
    f"POST {ML}/experiments/delete-experiment-tag": needs(WRITE, ML_EXP),
    f"POST {ML}/runs/create": needs(WRITE, ML_EXP),
    f"POST {ML}/runs/update": needs(WRITE, ML_RUN),
    f"POST {ML}/runs/delete": needs(MAINTAIN, ML_RUN),
    f"POST {ML}/runs/restore": needs(MAINTAIN, ML_RUN),
    f"GET {ML}/runs/get": needs(READ, ML_RUN),
    f"POST {ML}/runs/log-metric": needs(WRITE, ML_RUN),
    f"POST {ML}/runs/log-parameter": needs(WRITE, ML_RUN),
    f"POST {ML}/runs/set-tag": needs(WRITE, ML_RUN),
    f"POST {ML}/runs/delete-tag": needs(WRITE, ML_RUN),
    f"POST {ML}/runs/log-batch": needs(WRITE, ML_RUN),
    f"POST {ML}/runs/search": needs(READ, Experiments(mlflow("experiment_ids"))),
    f"GET {ML}/metrics/get-history": needs(READ, ML_RUN),
    f"POST {ML}/runs/log-inputs": needs(WRITE, ML_RUN),
    f"POST {ML}/runs/outputs": needs(WRITE, ML_RUN),
    # -- MLflow artifacts and logged models ---------------------------------------------------
    f"PUT {MLA}/{{path}}": needs(WRITE, ArtifactPath(PathParam("path"))),
    f"GET {MLA}/{{path}}": needs(READ, ArtifactPath(PathParam("path"))),
    f"GET {MLA}": needs(READ, ArtifactPath(QueryParam("path"), encoded_name=True)),
    f"GET {ML}/artifacts/list": needs(READ, ML_RUN),
    "GET /api/3.0/mlflow/server-info": SIGNED_IN,
    f"POST {ML}/logged-models": needs(WRITE, ML_EXP),
    f"POST {ML}/logged-models/search": needs(READ, Experiments(mlflow("experiment_ids"))),
    f"GET {ML}/logged-models/{{model_id}}": needs(READ, LOGGED),
    f"PATCH {ML}/logged-models/{{model_id}}": needs(WRITE, LOGGED),
    f"DELETE {ML}/logged-models/{{model_id}}": needs(MAINTAIN, LOGGED),
    f"PATCH {ML}/logged-models/{{model_id}}/tags": needs(WRITE, LOGGED),
    f"DELETE {ML}/logged-models/{{model_id}}/tags/{{tag_key}}": needs(WRITE, LOGGED),
    f"POST {ML}/logged-models/{{model_id}}/params": needs(WRITE, LOGGED),
    f"GET {ML}/logged-models/{{model_id}}/artifacts/directories": needs(READ, LOGGED),
    # -- MLflow registry ------------------------------------------------------------------
    f"POST {ML}/registered-models/create": needs(
        WRITE, Create("registered_model", mlflow("name"), WORKSPACE_TAG)
    ),
    f"GET {ML}/registered-models/get": needs(READ, ML_MODEL),
    f"POST {ML}/registered-models/rename": needs(
        MAINTAIN, Rename("registered_model", mlflow("name"), mlflow("new_name"))
    ),
    f"PATCH {ML}/registered-models/update": needs(WRITE, ML_MODEL),
    f"DELETE {ML}/registered-models/delete": needs(MAINTAIN, ML_MODEL),
    f"GET {ML}/registered-models/search": LIST,
    f"GET {ML}/registered-models/get-latest-versions": needs(READ, ML_MODEL),
    f"POST {ML}/registered-models/get-latest-versions": needs(READ, ML_MODEL),
    f"POST {ML}/registered-models/set-tag": needs(WRITE, ML_MODEL),
    f"DELETE {ML}/registered-models/delete-tag": needs(WRITE, ML_MODEL),
    f"POST {ML}/registered-models/alias": needs(MAINTAIN, ML_MODEL),
    f"DELETE {ML}/registered-models/alias": needs(MAINTAIN, ML_MODEL),
    f"GET {ML}/registered-models/alias": needs(READ, ML_MODEL),
    f"POST {ML}/model-versions/create": also(needs(WRITE, ML_MODEL), ML_VERSION_SOURCES),
    f"GET {ML}/model-versions/get": needs(READ, ML_MODEL),
    f"PATCH {ML}/model-versions/update": needs(WRITE, ML_MODEL),
    f"POST {ML}/model-versions/transition-stage": needs(MAINTAIN, ML_MODEL),
    f"DELETE {ML}/model-versions/delete": needs(MAINTAIN, ML_MODEL),
    f"GET {ML}/model-versions/search": LIST,
    f"GET {ML}/model-versions/get-download-uri": needs(READ, ML_MODEL),
    f"POST {ML}/model-versions/set-tag": needs(WRITE, ML_MODEL),
    f"DELETE {ML}/model-versions/delete-tag": needs(WRITE, ML_MODEL),
    # -- UI pages and actions: the same rules as the API --------------------------------------
    "GET /": LIST,
    "GET /experiments": LIST,
    "GET /experiments/{experiment_id}": needs(READ, EXP_PATH),
    "GET /experiments/{experiment_id}/columns": needs(READ, EXP_PATH),
    "GET /runs/{run_id}": needs(READ, RUN_PATH),
    "GET /ui/runs/{run_id}/artifact": needs(READ, RUN_PATH),
    "GET /compare": needs(READ, Runs(QueryParam("runs"))),
    "GET /models": LIST,
    "GET /models/{name}": needs(READ, MODEL_PATH),
    "GET /models/{name}/versions/{version}": needs(READ, MODEL_PATH),
    "POST /models/{name}/promote": needs(MAINTAIN, MODEL_PATH),
    "POST /models/{name}/aliases/{alias}/rollback": needs(MAINTAIN, MODEL_PATH),
    "GET /deployments": LIST,
    "GET /deployments/{name}": needs(READ, DEPLOYMENT_PATH),
    "GET /monitoring": LIST,
    "GET /monitoring/{name}": needs(READ, MONITOR_PATH),
    "GET /data": LIST,
    "GET /data/{name}": needs(READ, DATASET_PATH),
    "GET /data/{name}/{version}": needs(READ, DATASET_PATH),
    "GET /ui/api/runs/{run_id}/metrics/{key}": needs(READ, RUN_PATH),
    "GET /ui/api/compare/metrics/{key}": needs(READ, Runs(QueryParam("runs"))),
    "GET /lineage": needs(READ, ModelUri(QueryParam("uri")), Listing()),
}


def route_key(method: str, path_format: str) -> str:
    """The table's key of a route: ``"GET /api/v1/runs/{run_id}"`` (converters dropped)."""
    return f"{method.upper()} {path_format}"


def requirement(method: str, path_format: str) -> Requirement | None:
    """What a route needs; None when the route is not in the table (it is then refused)."""
    return PERMISSIONS.get(route_key(method, path_format))
