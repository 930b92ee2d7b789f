"""``lineage``: where a model version, run, dataset version or deployment came from, and
what came of it.

::

    from loopml.governance import lineage

    graph = lineage("models:/churn@champion")          # depth 3 each way
    [n.label for n in graph.nodes]                      # churn v2, train run, churn-train v1, ...

Upstream a model version comes from its source run, the run from its input
dataset versions, its code (git commit, dirty or not), its environment and its
parent run (a pipeline run or a tuning study). Downstream a model version goes
to the aliases it held (who moved them, when, why), the deployments that route
to it, their monitors and alert rules (with recent alerts), and the policy
runs that registered or promoted it; a run goes to the versions registered
from it and its child runs; a dataset version to the runs that read it.

The graph is read through each service's public API, only ever read. Each
direction is walked breadth first from the root up to ``depth`` hops, and a
node is expanded once per direction, so cycles (a run that read data it later
registered) cannot loop. Against a server (``http(s)://``) the same graph is
asked of ``/api/v1/lineage``, which runs this code beside the stores.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from loopml.automation import Policies
from loopml.core.errors import InvalidArgument, NotFound, PermissionDenied
from loopml.datasets import DATASET_SCHEME, Datasets, parse_dataset_ref
from loopml.deployments import Deployments, validate_deployment_name
from loopml.governance import _lineage_nodes as nodes
from loopml.governance._identity import Governance
from loopml.governance._lineage_graph import GraphBuilder, LineageGraph, LineageNode
from loopml.monitoring import Monitors
from loopml.registry import ModelVersion, Registry, parse_models_uri, parse_runs_uri
from loopml.store import Run, ViewType, current_visibility
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

DEFAULT_DEPTH = 3
MAX_DEPTH = 10
MAX_READERS = 100  # runs shown as readers of one dataset version (newest first)
MAX_POLICY_RUNS = 1000
DATASETS_SCHEME = "datasets:/"
DEPLOYMENTS_SCHEME = "deployments:/"
URI_HELP = (
    "give models:/<name>/<version>, models:/<name>@<alias>, runs:/<run id>, "
    "datasets:/<name>/<version> (or loopml-dataset:/<name>/<version>) or deployments:/<name>"
)

# (object kind, key) -> may the caller read it; the kinds are governance's OBJECT_KINDS.
Readable = Callable[[str, str], bool]


def lineage(
    uri: str,
    client: Client | None = None,
    *,
    depth: int = DEFAULT_DEPTH,
    readable: Readable | None = None,
) -> LineageGraph:
    """The lineage graph of ``uri``, ``depth`` hops upstream and downstream.

    ``readable(kind, key)`` (optional; the server passes the caller's
    permissions) hides the objects it refuses: they are neither shown nor
    walked through. InvalidArgument for a malformed URI or depth, NotFound for
    an object that does not exist.
    """
    depth = validate_depth(depth)
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgument(f"Invalid lineage URI {uri!r}: {URI_HELP}.")
    client = client if client is not None else get_client()
    if isinstance(client.store, RestTrackingStore):
        answer = client.store.call("GET", "/lineage", params={"uri": uri, "depth": depth})
        return LineageGraph.from_dict(answer)
    if readable is None:
        readable = _visible_in_scope(client)
    return _Walker(client, readable).walk(uri.strip(), depth)


def _visible_in_scope(client: Client) -> Readable | None:
    """Inside a request limited to some workspaces (the server's listing scope), only
    their objects are shown; None (everything) outside one."""
    visible = current_visibility()
    if visible is None:
        return None
    governance = Governance(client)
    return lambda kind, key: governance.workspace_of(kind, key) in visible


def validate_depth(depth: object) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise InvalidArgument(f"Invalid depth {depth!r}: a whole number from 0 to {MAX_DEPTH}.")
    return depth


class _Walker:
    """One walk over the services of one embedded (or in-server) client."""

    def __init__(self, client: Client, readable: Readable | None) -> None:
        self.client = client
        self.registry = Registry(client)
        self.readable = readable
        self.graph = GraphBuilder()

    @functools.cached_property
    def datasets(self) -> Datasets:
        return Datasets(self.client)

    @functools.cached_property
    def deployments(self) -> Deployments:
        return Deployments(self.client)

    @functools.cached_property
    def monitors(self) -> Monitors:
        return Monitors(self.client)

    @functools.cached_property
    def policies(self) -> Policies:
        return Policies(self.client)

    # -- the walk -------------------------------------------------------------------------
    def walk(self, uri: str, depth: int) -> LineageGraph:
        root = self._root(uri)
        if not self._may_read(root):
            raise PermissionDenied(f"You may not read {uri}.")
        self.graph.add_node(root)
        for expand in (self._upstream, self._downstream):
            seen = {root.id}
            frontier = [root]
            for _ in range(depth):
                found: list[LineageNode] = []
                for node in frontier:
                    for near in expand(node):
                        if near.id not in seen:
                            seen.add(near.id)
                            found.append(near)
                frontier = found
        return self.graph.build(root.id)

    def _root(self, uri: str) -> LineageNode:
        if uri.startswith("models:/"):
            return nodes.model_version_node(self.registry.resolve(uri))
        if uri.startswith("runs:/"):
            run_id, _ = parse_runs_uri(uri, "run URI")
            return nodes.run_node(self.client.get_run(run_id))
        if uri.startswith((DATASETS_SCHEME, DATASET_SCHEME)):
            return nodes.dataset_version_node(self.datasets.get(_dataset_ref(uri)))
        if uri.startswith(DEPLOYMENTS_SCHEME):
            name = uri[len(DEPLOYMENTS_SCHEME) :].strip("/")
            return nodes.deployment_node(self.deployments.get(validate_deployment_name(name)))
        raise InvalidArgument(f"Unsupported lineage URI {uri!r}: {URI_HELP}.")

    def _link(self, source: LineageNode, target: LineageNode, relation: str) -> None:
        self.graph.add_edge(source.id, target.id, relation)

    def _keep(self, node: LineageNode) -> LineageNode | None:
        """``node`` as held in the graph (added now if new), or None if it is hidden."""
        if node.id not in self.graph and not self._may_read(node):
            return None
        return self.graph.add_node(node)

    def _may_read(self, node: LineageNode) -> bool:
        if self.readable is None:
            return True
        owner = _owner(node)
        return owner is None or self.readable(*owner)

    # -- upstream: what a node was made from ----------------------------------------------
    def _upstream(self, node: LineageNode) -> Iterator[LineageNode]:
        a = node.attributes
        if node.kind == "model_version":
            version = self.registry.get_model_version(a["name"], a["version"])
            if version.run_id is not None:
                run = self._run(version.run_id)
                if run is not None and (kept := self._keep(nodes.run_node(run))):
                    self._link(kept, node, "produced")
                    yield kept
        elif node.kind in ("run", "pipeline_run", "tuning_study"):
            yield from self._run_upstream(node)
        elif node.kind == "deployment":
            deployment = self.deployments.get(node.label)
            for uri, relation in _routes(
                deployment.model_uri, deployment.canary_uri, deployment.shadow_uri
            ):
                served = self._served(uri)
                if served is not None and (kept := self._keep(served)):
                    self._link(kept, node, relation)
                    yield kept

    def _run_upstream(self, node: LineageNode) -> Iterator[LineageNode]:
        run = self.client.get_run(node.attributes["run_id"])
        contexts = {i.source: i.context for i in run.inputs.dataset_inputs}
        for version in self.datasets.lineage(run.info.run_id):
            if kept := self._keep(nodes.dataset_version_node(version)):
                context = contexts.get(version.uri) or ""
                self._link(kept, node, f"input ({context})" if context else "input")
                yield kept
        for made, relation in (
            (nodes.commit_node(run), "code"),
            (nodes.environment_node(run), "environment"),
        ):
            if made is not None:
                self._link(self.graph.add_node(made), node, relation)
                yield made
        parent_id = run.info.parent_run_id
        if parent_id:
            parent = self._run(parent_id)
            if parent is not None and (kept := self._keep(nodes.run_node(parent))):
                self._link(kept, node, "trial" if kept.kind == "tuning_study" else "parent")
                yield kept

    # -- downstream: what was made from a node, or uses it --------------------------------
    def _downstream(self, node: LineageNode) -> Iterator[LineageNode]:
        a = node.attributes
        if node.kind == "model_version":
            yield from self._version_downstream(node, a["name"], a["version"])
        elif node.kind in ("run", "pipeline_run", "tuning_study"):
            yield from self._run_downstream(node)
        elif node.kind == "dataset_version":
            for run in self._readers(a["name"], a["content_id"], node.id):
                if kept := self._keep(nodes.run_node(run)):
                    self._link(node, kept, _input_relation(run, node.id))
                    yield kept
        elif node.kind == "deployment":
            for monitor in self.monitors.list(deployment=node.label):
                if kept := self._keep(nodes.monitor_node(monitor)):
                    self._link(node, kept, "monitored_by")
                    yield kept
        elif node.kind == "monitor":
            for rule in self.monitors.rules(node.label):
                recent = self.monitors.events(rule=rule.name, limit=nodes.RECENT_ALERTS)
                made = nodes.alert_rule_node(rule, node.attributes["deployment"], recent)
                if kept := self._keep(made):
                    self._link(node, kept, "alert_rule")
                    yield kept

    def _version_downstream(
        self, node: LineageNode, name: str, number: int
    ) -> Iterator[LineageNode]:
        model = self.registry.get_registered_model(name)
        history = self.registry.alias_history(name)
        for alias in sorted({e.alias for e in history if e.version == number}):
            moves = [
                e for e in history if e.alias == alias and number in (e.version, e.previous_version)
            ]
            made = nodes.alias_node(name, alias, model.aliases.get(alias), moves)
            self._link(node, self.graph.add_node(made), "alias")
            yield made
        for deployment in self.deployments.list():
            routes = _routes(deployment.model_uri, deployment.canary_uri, deployment.shadow_uri)
            relations = [r for uri, r in routes if self._serves(uri, name, number)]
            if relations and (kept := self._keep(nodes.deployment_node(deployment))):
                for relation in relations:
                    self._link(node, kept, relation)
                yield kept
        runs = self.policies.runs(limit=MAX_POLICY_RUNS)
        for run in runs:
            ours = str(run.links.get("model_version")) == str(number) and run.model == name
            if ours and (kept := self._keep(nodes.policy_run_node(run))):
                self._link(node, kept, "policy")
                yield kept

    def _run_downstream(self, node: LineageNode) -> Iterator[LineageNode]:
        run_id = node.attributes["run_id"]
        for version in self._all_versions(f"run_id = '{run_id}'"):
            if kept := self._keep(nodes.model_version_node(version)):
                self._link(node, kept, "produced")
                yield kept
        children = self.client.search_runs(
            [node.attributes["experiment_id"]],
            f"tags.mlflow.parentRunId = '{run_id}'",
            ViewType.ACTIVE_ONLY,
            max_results=MAX_READERS,
            order_by=["start_time DESC"],
        )
        for child in children:
            if kept := self._keep(nodes.run_node(child)):
                self._link(node, kept, "trial" if node.kind == "tuning_study" else "parent")
                yield kept

    # -- reading helpers ------------------------------------------------------------------
    def _run(self, run_id: str) -> Run | None:
        """The run, or None if it was purged (lineage shows what is left, not an error)."""
        try:
            return self.client.get_run(run_id)
        except NotFound:
            return None

    def _all_versions(self, filter_string: str) -> list[ModelVersion]:
        found: list[ModelVersion] = []
        token: str | None = None
        while True:
            page = self.registry.search_model_versions(filter_string, None, 1000, token)
            found.extend(page)
            token = page.token
            if not token:
                return found

    def _readers(self, name: str, content_id: str, uri: str) -> list[Run]:
        """Runs (of every experiment) that recorded exactly this dataset version."""
        ids = [e.experiment_id for e in self._experiments()]
        if not ids:
            return []
        runs = self.client.search_runs(
            ids,
            f"datasets.name = '{_quoted(name)}' AND datasets.digest = '{content_id}'",
            ViewType.ACTIVE_ONLY,
            max_results=MAX_READERS,
            order_by=["start_time DESC"],
        )
        return [r for r in runs if any(i.source == uri for i in r.inputs.dataset_inputs)]

    def _experiments(self) -> list[Any]:
        found: list[Any] = []
        token: str | None = None
        while True:
            page = self.client.search_experiments(max_results=1000, page_token=token)
            found.extend(page)
            token = page.token
            if not token:
                return found

    def _served(self, uri: str) -> LineageNode | None:
        """The node a deployment route names: a model version (alias resolved now) or run."""
        try:
            if uri.startswith("runs:/"):
                run = self._run(parse_runs_uri(uri, "route")[0])
                return None if run is None else nodes.run_node(run)
            return nodes.model_version_node(self.registry.resolve(uri))
        except (NotFound, InvalidArgument):
            return None  # a route to an unset alias or a deleted version serves nothing now

    def _serves(self, uri: str, name: str, number: int) -> bool:
        if not uri.startswith("models:/"):
            return False
        try:
            if parse_models_uri(uri).name != name:
                return False
            return self.registry.resolve(uri).version == number
        except (NotFound, InvalidArgument):
            return False


def _routes(model: str, canary: str | None, shadow: str | None) -> list[tuple[str, str]]:
    """A deployment's routes and what each is: ``serves``, ``canary`` or ``shadow``."""
    found = [(model, "serves")]
    if canary:
        found.append((canary, "canary"))
    if shadow:
        found.append((shadow, "shadow"))
    return found


def _dataset_ref(uri: str) -> str:
    """``datasets:/NAME/VERSION`` or ``loopml-dataset:/NAME/VERSION`` as ``NAME@VERSION``."""
    scheme = DATASETS_SCHEME if uri.startswith(DATASETS_SCHEME) else DATASET_SCHEME
    name, slash, version = uri[len(scheme) :].strip("/").partition("/")
    if not slash or not version:
        raise InvalidArgument(f"Invalid dataset URI {uri!r}: use datasets:/<name>/<version>.")
    name, _ = parse_dataset_ref(name)
    return f"{name}@{version}"


def _input_relation(run: Run, uri: str) -> str:
    for item in run.inputs.dataset_inputs:
        if item.source == uri and item.context:
            return f"input ({item.context})"
    return "input"


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _owner(node: LineageNode) -> tuple[str, str] | None:
    """The workspace object a node belongs to (governance's object kinds), if any."""
    a = node.attributes
    if node.kind in ("model_version", "alias"):
        return "registered_model", str(a["name"])
    if node.kind in ("run", "pipeline_run", "tuning_study"):
        return "experiment", str(a["experiment_id"])
    if node.kind == "dataset_version":
        return "dataset", str(a["name"])
    if node.kind == "deployment":
        return "deployment", node.label
    if node.kind in ("monitor", "alert_rule"):
        return "deployment", str(a["deployment"])
    if node.kind == "policy_run":
        return "policy", str(a["policy"])
    return None  # code and environment: reached only through a run the caller may read
