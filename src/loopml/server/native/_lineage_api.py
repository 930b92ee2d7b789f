"""``/api/v1/lineage`` and ``/api/v1/registry/models/{name}/versions/{version}/card``.

Handlers parse, call ``lineage`` and ``model_card`` (which read the other
services) and render; a remote client's ``lineage(...)``/``model_card(...)``
reach the same code through these routes, so the graph and the card are the
same embedded and against a server.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from loopml.governance._cards import model_card
from loopml.governance._lineage import DEFAULT_DEPTH, MAX_DEPTH, lineage
from loopml.server._deps import service
from loopml.tracking import Client

router = APIRouter(tags=["lineage"])

# A card is a standalone document: it may not run scripts or load anything.
CARD_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@router.get("/lineage", summary="The lineage graph of a model version, run, dataset or deployment")
def get_lineage(
    uri: str = Query(
        ...,
        description="models:/<name>/<version>, models:/<name>@<alias>, runs:/<run id>, "
        "datasets:/<name>/<version> or deployments:/<name>",
    ),
    depth: int = Query(DEFAULT_DEPTH, ge=0, le=MAX_DEPTH, description="Hops each way."),
    client: Client = Depends(service),
) -> dict[str, Any]:
    return lineage(uri, client, depth=depth).to_dict()


@router.get(
    "/registry/models/{name}/versions/{version}/card",
    summary="The model card of a version (Markdown, HTML, or its facts as JSON)",
    response_model=None,
)
def get_model_card(
    name: str,
    version: int,
    format: Literal["markdown", "html", "json"] = Query("markdown"),
    client: Client = Depends(service),
) -> Response | dict[str, Any]:
    card = model_card(name, version, client)
    if format == "json":
        return card.to_dict()
    if format == "html":
        return HTMLResponse(card.html(), headers={"Content-Security-Policy": CARD_CSP})
    return PlainTextResponse(card.markdown(), media_type="text/markdown; charset=utf-8")
