"""The lineage graph's records: nodes named by URI, directed edges, and their JSON form.

Edges always point the way data and models flow (upstream to downstream), so
``dataset -> run -> model version -> deployment`` reads left to right whatever
node the graph was asked about. Each node's ``attributes`` carry what a reader
wants without another lookup, and ``ui`` (the UI page's path, or None when the
object has no page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loopml.core.errors import InvalidArgument

# What a node is; the CLI, the REST API and the UI draw by these names.
NODE_KINDS = (
    "model_version",
    "run",
    "pipeline_run",
    "tuning_study",
    "dataset_version",
    "commit",
    "environment",
    "deployment",
    "monitor",
    "alert_rule",
    "alias",
    "policy_run",
)


@dataclass(frozen=True, slots=True)
class LineageNode:
    """One object: ``id`` is its URI (``models:/churn/3``, ``runs:/<id>``, ...)."""

    id: str
    kind: str
    label: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def ui(self) -> str | None:
        """The UI page of the object (a path such as ``/runs/<id>``), if it has one."""
        link = self.attributes.get("ui")
        return link if isinstance(link, str) else None


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """``source`` flows into ``target``; ``relation`` says how (``input``, ``produced``...)."""

    source: str
    target: str
    relation: str


@dataclass(frozen=True, slots=True)
class LineageGraph:
    """The graph around ``root``: every node reached within the depth, both directions."""

    root: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]

    def node(self, node_id: str) -> LineageNode:
        """The node ``node_id``; KeyError if the graph does not hold it."""
        for found in self.nodes:
            if found.id == node_id:
                return found
        raise KeyError(node_id)

    def upstream_of(self, node_id: str) -> list[LineageEdge]:
        """Edges into ``node_id`` (what it was made from)."""
        return [e for e in self.edges if e.target == node_id]

    def downstream_of(self, node_id: str) -> list[LineageEdge]:
        """Edges out of ``node_id`` (what was made from it, or uses it)."""
        return [e for e in self.edges if e.source == node_id]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: what ``/api/v1/lineage`` answers and ``--json`` prints."""
        return {
            "root": self.root,
            "nodes": [
                {"id": n.id, "kind": n.kind, "label": n.label, "attributes": n.attributes}
                for n in self.nodes
            ],
            "edges": [
                {"source": e.source, "target": e.target, "relation": e.relation} for e in self.edges
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LineageGraph:
        """Read back ``to_dict``'s form (a server's answer); InvalidArgument if malformed."""
        try:
            return cls(
                root=str(data["root"]),
                nodes=[
                    LineageNode(
                        str(n["id"]), str(n["kind"]), str(n["label"]), dict(n["attributes"])
                    )
                    for n in data["nodes"]
                ],
                edges=[
                    LineageEdge(str(e["source"]), str(e["target"]), str(e["relation"]))
                    for e in data["edges"]
                ],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"Malformed lineage graph: {exc!r}.") from exc


class GraphBuilder:
    """Collects nodes and edges once each, in the order they were found."""

    def __init__(self) -> None:
        self._nodes: dict[str, LineageNode] = {}
        self._edges: dict[tuple[str, str, str], LineageEdge] = {}

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def add_node(self, node: LineageNode) -> LineageNode:
        """Keep ``node`` unless one with its id is already held (the first one wins)."""
        return self._nodes.setdefault(node.id, node)

    def add_edge(self, source: str, target: str, relation: str) -> None:
        if source != target:
            self._edges.setdefault(
                (source, target, relation), LineageEdge(source, target, relation)
            )

    def build(self, root: str) -> LineageGraph:
        return LineageGraph(root, list(self._nodes.values()), list(self._edges.values()))
