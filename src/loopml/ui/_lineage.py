"""The lineage page: a model version's, run's, dataset version's or deployment's graph.

The server sends the graph as data (nodes, edges, each node's page); the page
script lays it out left to right with dagre (upstream to downstream) and draws
it with ECharts' graph series. The same nodes are listed as an HTML table, so
the page says everything without scripts too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.governance._lineage import DEFAULT_DEPTH, MAX_DEPTH, lineage
from loopml.governance._lineage_graph import LineageGraph
from loopml.tracking import Client
from loopml.ui._render import render
from loopml.ui._route import PageRoute
from loopml.ui._services import client

router = APIRouter(route_class=PageRoute)


@router.get("/lineage", response_class=HTMLResponse)
def lineage_page(
    request: Request,
    uri: str = Query("", max_length=2000),
    depth: int = Query(DEFAULT_DEPTH, ge=0, le=MAX_DEPTH),
    service: Client = Depends(client),
) -> HTMLResponse:
    """The graph of ``uri`` (a form to ask for one when none is given)."""
    graph = lineage(uri, service, depth=depth) if uri else None
    return render(
        request,
        "lineage.html",
        uri=uri,
        depth=depth,
        max_depth=MAX_DEPTH,
        graph=graph,
        drawing=None if graph is None else drawing(graph),
    )


def drawing(graph: LineageGraph) -> dict[str, Any]:
    """What the page script draws: plain data, no markup (labels are text on a canvas)."""
    return {
        "root": graph.root,
        "nodes": [
            {"id": n.id, "kind": n.kind, "label": n.label, "ui": _local(n.ui)} for n in graph.nodes
        ],
        "edges": [
            {"source": e.source, "target": e.target, "relation": e.relation} for e in graph.edges
        ],
    }


def _local(link: str | None) -> str | None:
    """Only this server's pages are links (a path, never another origin or a scheme)."""
    return link if link and link.startswith("/") and not link.startswith("//") else None
