"""From a permission's target and the request's values to the workspaces it must be checked in.

Blocking (database look-ups): called from a worker thread. A look-up that
fails (no such run, a malformed id) raises the service's own error, so the
caller gets the 404 or 400 the handler would have given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import unquote

from fastapi import Request

from loopml.automation import Policies
from loopml.core.errors import InvalidArgument, NotFound
from loopml.datasets import Datasets
from loopml.deployments import Deployments
from loopml.governance import DEFAULT_WORKSPACE, Governance
from loopml.monitoring import Monitors
from loopml.registry import Registry
from loopml.server._deps import per_app
from loopml.server._permissions import (
    AlertRuleName,
    ArtifactPath,
    Create,
    ExperimentByName,
    Experiments,
    Fixed,
    LoggedModel,
    ModelUri,
    MonitorName,
    Named,
    PolicyRunId,
    Rename,
    RequestWorkspace,
    Runs,
    Source,
    Target,
    Workspace,
)
from loopml.server.mlflow._model_runs import run_id_of
from loopml.tracking import Client

_S = TypeVar("_S", Datasets, Deployments, Monitors, Policies)

WORKSPACE_HEADER = "x-loopml-workspace"
RUN_CACHE_SIZE = 100_000
WORKSPACE_QUERY = "workspace"


@dataclass
class Resolution:
    """The workspaces to check, and what to record once the handler succeeded."""

    workspaces: list[str] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)


class Resolver:
    """Finds owners for one request; services are the app's (built once, kept)."""

    def __init__(self, request: Request, values: Mapping[Source, list[str]]) -> None:
        self.request = request
        self.values = values
        self.client: Client = request.app.state.client
        self.governance = per_app(request, "governance", Governance, self.client)

    # -- entry point ----------------------------------------------------------------------
    def resolve(self, target: Target) -> Resolution:
        """The workspaces ``target`` names in this request (several for a list of runs)."""
        if isinstance(target, Fixed):
            return Resolution([target.workspace])
        if isinstance(target, RequestWorkspace):
            return Resolution([self.request_workspace()])
        if isinstance(target, Workspace):
            return Resolution(self._values(target.source, "workspace"))
        if isinstance(target, Named):
            keys = self.values[target.source]
            if not keys and not target.optional:
                raise InvalidArgument(f"Missing the {target.kind} this request names.")
            return Resolution([self.governance.workspace_of(target.kind, k) for k in keys])
        if isinstance(target, ExperimentByName):
            return Resolution([self._experiment_named(n) for n in self._values(target.source)])
        if isinstance(target, Runs):
            ids = self.values[target.source]
            if not ids and not target.optional:
                raise InvalidArgument("Missing value for required parameter 'run_id'.")
            return Resolution([self._run_workspace(i) for i in ids])
        if isinstance(target, Experiments):
            ids = self.values[target.source]
            return Resolution([self.governance.workspace_of("experiment", i) for i in ids])
        if isinstance(target, LoggedModel):
            return Resolution([self._logged_model(i) for i in self._values(target.source)])
        if isinstance(target, ArtifactPath):
            paths = self.values[target.source] or [""]
            return Resolution([self._artifact_path(p, target.encoded_name) for p in paths])
        if isinstance(target, ModelUri):
            owners = (self._uri_workspace(uri) for uri in self.values[target.source])
            return Resolution([w for w in owners if w is not None])
        if isinstance(target, MonitorName):
            names = self._values(target.source, "monitor")
            return Resolution([self._monitor_workspace(n) for n in names])
        if isinstance(target, AlertRuleName):
            rules = self._values(target.source, "alert rule")
            monitors = self._service("monitors", Monitors)
            watched = [monitors.get_rule(rule).monitor for rule in rules]
            return Resolution([self._monitor_workspace(m) for m in watched])
        if isinstance(target, PolicyRunId):
            ids = self._values(target.source, "policy run")
            return Resolution([self._policy_run_workspace(i) for i in ids])
        if isinstance(target, Create):
            return self._create(target)
        if isinstance(target, Rename):
            return self._rename(target)
        raise TypeError(f"No resolver for {target!r}")  # the table holds no such target

    def request_workspace(self) -> str:
        """The workspace a request creates in: its header, its query, or "default"."""
        return self._named_workspace() or DEFAULT_WORKSPACE

    def _named_workspace(self) -> str | None:
        named = self.request.headers.get(WORKSPACE_HEADER) or self.request.query_params.get(
            WORKSPACE_QUERY
        )
        return named.strip() if named and named.strip() else None

    def _creation_workspace(self, target: Create) -> str:
        """Where ``target`` is created: the header or query, else its workspace tag.

        Both may be given only if they agree: a request naming two workspaces is refused
        rather than guessed at.
        """
        named = self._named_workspace()
        tagged = sorted({t.strip() for t in self._tagged(target) if t.strip()})
        if len(tagged) > 1 or (tagged and named is not None and tagged[0] != named):
            shown = ", ".join(repr(w) for w in ([named] if named else []) + tagged)
            raise InvalidArgument(
                f"The request names several workspaces ({shown}): send one, as the "
                "X-Loopml-Workspace header or the loopml.workspace tag."
            )
        return named or (tagged[0] if tagged else DEFAULT_WORKSPACE)

    def _tagged(self, target: Create) -> list[str]:
        return [] if target.workspace_tag is None else self.values[target.workspace_tag]

    # -- owners of indirect things ----------------------------------------------------------
    def _values(self, source: Source, what: str = "value") -> list[str]:
        found = self.values[source]
        if not found:
            raise InvalidArgument(f"Missing the {what} this request names.")
        return found

    def _experiment_named(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is None:
            raise NotFound(f"No experiment named {name!r}.")
        return self.governance.workspace_of("experiment", found.experiment_id)

    def _run_workspace(self, run_id: str) -> str:
        return self.governance.workspace_of("experiment", self._experiment_of(run_id))

    def _experiment_of(self, run_id: str) -> str:
        """A run's experiment, remembered per app: runs never change experiment."""
        known: dict[str, str] | None = getattr(self.request.app.state, "run_experiments", None)
        if known is None:
            known = self.request.app.state.run_experiments = {}
        found = known.get(run_id)
        if found is None:
            found = self.client.get_run(run_id).info.experiment_id
            if len(known) >= RUN_CACHE_SIZE:
                known.clear()
            known[run_id] = found
        return found

    def _monitor_workspace(self, name: str) -> str:
        """A monitor's owner is its deployment's (NotFound for an unknown monitor)."""
        deployment = self._service("monitors", Monitors).get(name).deployment
        return self.governance.workspace_of("deployment", deployment)

    def _policy_run_workspace(self, run_id: str) -> str:
        try:
            number = int(run_id)
        except ValueError:
            raise InvalidArgument(f"Policy run ids are integers, not {run_id[:100]!r}.") from None
        policy = self._service("policies", Policies).get_run(number).policy
        return self.governance.workspace_of("policy", policy)

    def _logged_model(self, model_id: str) -> str:
        return self._run_workspace(run_id_of(model_id))

    def _artifact_path(self, path: str, encoded_name: bool) -> str:
        parts = path.strip("/").split("/")
        if parts[0] == "registry" and len(parts) >= 2 and parts[1]:
            name = unquote(parts[1]) if encoded_name else parts[1]
            return self.governance.workspace_of("registered_model", name)
        if len(parts) < 2 or not parts[0]:
            raise NotFound(
                f"No artifacts at {path[:200]!r}: artifact paths look like "
                "<experiment_id>/<run_id>/artifacts/<path>."
            )
        return self.governance.workspace_of("experiment", parts[0])

    def _uri_workspace(self, uri: str) -> str | None:
        """The owner of what a model URI points at; None for URIs naming no stored object."""
        if uri.startswith("models:/"):
            rest = uri.removeprefix("models:/")
            name = rest.split("@", 1)[0] if "@" in rest else rest.rsplit("/", 1)[0]
            if "/" not in rest and "@" not in rest:
                return self._logged_model(rest)  # MLflow 3: models:/<logged model id>
            return self.governance.workspace_of("registered_model", name)
        if uri.startswith("runs:/"):
            return self._run_workspace(uri.removeprefix("runs:/").split("/", 1)[0])
        if uri.startswith("datasets:/"):
            name = uri.removeprefix("datasets:/").rsplit("/", 1)[0]
            return self.governance.workspace_of("dataset", name)
        if uri.startswith("deployments:/"):
            return self.governance.workspace_of("deployment", uri.removeprefix("deployments:/"))
        if uri.startswith("mlflow-artifacts:/"):
            return self._artifact_path(uri.removeprefix("mlflow-artifacts:/"), True)
        return None

    # -- creations and renames --------------------------------------------------------------
    def _create(self, target: Create) -> Resolution:
        names = self.values[target.source]
        if not names:
            return Resolution([self.request_workspace()])  # the handler answers the 400
        name = names[0]
        existing = self._existing_key(target.kind, name)
        if existing is not None:
            return Resolution([self.governance.workspace_of(target.kind, existing)])
        workspace = self._creation_workspace(target)
        self.governance.get_workspace(workspace)  # NotFound for an unknown workspace

        def assign() -> None:
            key = self._existing_key(target.kind, name)
            if key is not None:
                self.governance.assign(target.kind, key, workspace)

        return Resolution([workspace], [assign])

    def _rename(self, target: Rename) -> Resolution:
        old = self._values(target.old, target.kind)[0]
        workspace = self.governance.workspace_of(target.kind, old)
        new = self.values[target.new]

        def follow() -> None:
            if new:
                self.governance.assign(target.kind, new[0], workspace)

        return Resolution([workspace], [follow])

    def _existing_key(self, kind: str, name: str) -> str | None:
        """The ownership key of the ``kind`` named ``name`` if it exists, else None."""
        if kind == "experiment":
            found = self.client.get_experiment_by_name(name)
            return None if found is None else found.experiment_id
        lookups: dict[str, Callable[[str], object]] = {
            "registered_model": lambda n: self._registry().get_registered_model(n),
            "dataset": lambda n: self._service("datasets", Datasets).versions(n),
            "deployment": lambda n: self._service("deployments", Deployments).get(n),
            "policy": lambda n: self._service("policies", Policies).get(n),
        }
        try:
            lookups[kind](name)
        except NotFound:
            return None
        return name

    def _registry(self) -> Registry:
        found: Registry = self.request.app.state.registry
        return found

    def _service(self, name: str, build: type[_S]) -> _S:
        return per_app(self.request, name, build, self.client)
