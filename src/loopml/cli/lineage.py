"""``loopml lineage URI``: where a model, run, dataset version or deployment came from, and
what came of it, as a tree (upstream, then downstream) or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, when

if TYPE_CHECKING:
    from loopml.governance._lineage_graph import LineageGraph, LineageNode

# The attributes worth a line under a node, per kind (the rest is in --json).
_SHOWN = {
    "model_version": ("aliases", "user", "status"),
    "run": ("status", "user", "step"),
    "dataset_version": ("rows", "source"),
    "commit": ("branch", "repo_url"),
    "environment": ("platform",),
    "deployment": ("model_uri", "canary_uri", "shadow_uri"),
    "monitor": ("window",),
    "alert_rule": ("condition", "enabled"),
    "policy_run": ("state", "reason"),
}


@fails_cleanly
def lineage(
    ctx: typer.Context,
    uri: str = typer.Argument(
        ...,
        help="models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID, datasets:/NAME/VERSION "
        "or deployments:/NAME.",
    ),
    depth: int = typer.Option(3, "--depth", help="Hops to follow each way (0 to 10)."),
    as_json: bool = typer.Option(False, "--json", help="Print the graph as JSON for scripts."),
) -> None:
    """Print the lineage of a model version, run, dataset version or deployment."""
    from loopml.governance._lineage import lineage as build

    graph = build(uri, client_from(ctx), depth=depth)
    if as_json:
        print_json(graph.to_dict())
        return
    root = graph.node(graph.root)
    tree = Tree(f"[bold]{_title(root)}[/]")
    up = tree.add("[bold]upstream[/] (made from)")
    _branch(graph, up, graph.root, upstream=True, seen={graph.root})
    down = tree.add("[bold]downstream[/] (made from it, or using it)")
    _branch(graph, down, graph.root, upstream=False, seen={graph.root})
    console.print(tree, highlight=False)


def _title(node: LineageNode) -> str:
    return f"{escape(node.label)} [dim]{escape(node.kind)} {escape(node.id)}[/]"


def _branch(
    graph: LineageGraph, parent: Tree, node_id: str, *, upstream: bool, seen: set[str]
) -> None:
    edges = graph.upstream_of(node_id) if upstream else graph.downstream_of(node_id)
    if not edges and node_id == graph.root:
        parent.add("[dim]nothing recorded[/]")
    for edge in edges:
        near_id = edge.source if upstream else edge.target
        near = graph.node(near_id)
        branch = parent.add(f"[cyan]{escape(edge.relation)}[/] {_title(near)}")
        for line in _facts(near):
            branch.add(f"[dim]{escape(line)}[/]")
        if near_id not in seen:  # a node reached twice is shown, not walked again
            _branch(graph, branch, near_id, upstream=upstream, seen=seen | {near_id})


def _facts(node: LineageNode) -> list[str]:
    a: dict[str, Any] = node.attributes
    lines = [f"{k}: {a[k]}" for k in _SHOWN.get(node.kind, ()) if a.get(k) not in (None, "", [])]
    if node.kind == "commit":
        lines.insert(
            0, f"commit {a['commit']}" + (" with uncommitted changes" if a["dirty"] else "")
        )
    for move in a.get("history", []) if node.kind == "alias" else []:
        to = "deleted" if move["version"] is None else f"v{move['version']}"
        lines.append(
            f"{when(move['time'])} {move['action']} -> {to} by {move['user']}: {move['reason']}"
        )
    for alert in a.get("recent_alerts", []):
        lines.append(f"alert {when(alert['time'])}: {alert['message']}")
    return lines
