"""Models pages: registered models, their versions, aliases and history; promote, roll back.

Promotion and rollback are two POSTs each: the first (``step=review``) changes
nothing and shows what would happen (for a promotion, every gate's verdict on
the candidate now); the second (``step=confirm``) does it through the
``Registry``, which runs the gates again and moves the alias only if they all
pass. The review page carries the alias's holder at review time: if someone
moved the alias meanwhile, the confirmation is refused rather than acting on a
state the user never saw.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loopml.core.errors import InvalidArgument, InvalidState, LoopmlError
from loopml.datasets import Datasets, DatasetVersion
from loopml.registry import (
    AliasEvent,
    Gate,
    GateContext,
    GateResult,
    ModelVersion,
    Registry,
    parse_gate,
    run_gate,
)
from loopml.tracking import Client
from loopml.ui import _format  # noqa: F401 - the templates' filters
from loopml.ui._evaluation_view import find_evaluation
from loopml.ui._forms import field, read_form
from loopml.ui._render import render
from loopml.ui._route import PageRoute
from loopml.ui._services import client, datasets, registry

router = APIRouter(route_class=PageRoute)

MODELS_PER_PAGE = 50
VERSIONS_SHOWN = 100
METRICS_SHOWN = 6


@dataclass(frozen=True)
class VersionRow:
    """A version as the model page lists it: the record and its run's metrics."""

    version: ModelVersion
    inputs: str
    metrics: dict[str, float]


@router.get("/models", response_class=HTMLResponse)
def models_page(
    request: Request,
    filter: str = Query("", max_length=1000),
    page_token: str | None = Query(None, max_length=2000),
    service: Registry = Depends(registry),
) -> HTMLResponse:
    """Registered models matching the registry filter (plain words match names)."""
    page = service.search_registered_models(
        model_filter(filter), ["name ASC"], MODELS_PER_PAGE, page_token or None
    )
    return render(
        request,
        "models.html",
        active="Models",
        models=list(page),
        next_token=page.token,
        filter=filter,
    )


_FILTER = re.compile(
    r"^\s*(`[^`]*`|name|tags\.\S+|attributes?\.\S+)\s*(=|!=|\s(NOT\s+)?(I?LIKE|IN)\s)",
    re.IGNORECASE,
)


def model_filter(text: str) -> str | None:
    """The search box: the API's filter language (``tags.team = 'risk'``), or words that
    match anywhere in a model's name, case-insensitively."""
    text = text.strip()
    if not text:
        return None
    if _FILTER.match(text):
        return text
    literal = text.replace("\\", "\\\\").replace("'", "''")
    return f"name ILIKE '%{literal}%'"


@router.get("/models/{name}", response_class=HTMLResponse)
def model_page(
    request: Request,
    name: str,
    service: Registry = Depends(registry),
    tracking: Client = Depends(client),
) -> HTMLResponse:
    """One model: aliases (with rollback), versions, the promote form, alias history."""
    return _model_view(request, service, tracking, name)


def _model_view(
    request: Request,
    service: Registry,
    tracking: Client,
    name: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    model = service.get_registered_model(name)
    versions = service.list_model_versions(model.name, VERSIONS_SHOWN)
    rows = [VersionRow(v, signature_summary(v.signature), _metrics(tracking, v)) for v in versions]
    history = list(reversed(service.alias_history(model.name)))
    return render(
        request,
        "model.html",
        status_code=status_code,
        active="Models",
        model=model,
        rows=rows,
        metric_keys=sorted({k for r in rows for k in r.metrics})[:METRICS_SHOWN],
        history=history,
        error=error,
        form=form or {},
    )


@router.get("/models/{name}/versions/{version}", response_class=HTMLResponse)
def version_page(
    request: Request,
    name: str,
    version: int,
    service: Registry = Depends(registry),
    tracking: Client = Depends(client),
    data: Datasets = Depends(datasets),
) -> HTMLResponse:
    """One version: signature, files, its run's metrics, params and evaluation, lineage."""
    found = service.get_model_version(name, version)
    run = None
    inputs: list[DatasetVersion] = []
    lineage_error = None
    evaluation = None
    if found.run_id is not None:
        try:
            run = tracking.get_run(found.run_id)
            inputs = data.lineage(found.run_id)
            evaluation = find_evaluation(tracking, found.run_id)
        except LoopmlError as exc:  # a deleted run or dataset: the version page still shows
            lineage_error = exc.message
    return render(
        request,
        "model_version.html",
        active="Models",
        v=found,
        signature=signature_tables(found.signature),
        files=service.model_version_files(found.name, found.version),
        run=run,
        inputs=inputs,
        lineage_error=lineage_error,
        evaluation=evaluation,
        history=[e for e in service.alias_history(found.name) if found.version in _moved(e)],
    )


def _moved(event: AliasEvent) -> tuple[int | None, int | None]:
    return event.version, event.previous_version


def _metrics(tracking: Client, version: ModelVersion) -> dict[str, float]:
    if version.run_id is None:
        return {}
    try:
        return dict(tracking.get_run(version.run_id).data.metrics)
    except LoopmlError:
        return {}


# -- signatures -------------------------------------------------------------------------
def _columns(spec: Any) -> list[dict[str, str]] | None:
    """MLflow's column-spec JSON (a string or a list) as rows of name and type."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            return None
    if not isinstance(spec, list):
        return None
    rows = []
    for col in spec:
        if not isinstance(col, dict):
            return None
        kind = col.get("type", "")
        if kind == "tensor" and isinstance(col.get("tensor-spec"), dict):
            tensor = col["tensor-spec"]
            kind = f"tensor {tensor.get('dtype', '')} {tensor.get('shape', '')}"
        rows.append({"name": str(col.get("name", "")), "type": str(kind)})
    return rows


def signature_tables(signature: dict[str, Any] | None) -> dict[str, list[dict[str, str]]]:
    """The inputs and outputs of a signature as table rows (absent parts left out)."""
    if not signature:
        return {}
    tables = {}
    for part in ("inputs", "outputs"):
        rows = _columns(signature.get(part))
        if rows:
            tables[part] = rows
    return tables


def signature_summary(signature: dict[str, Any] | None) -> str:
    """The inputs of a signature in one line: ``x: double, y: long``."""
    rows = signature_tables(signature).get("inputs", [])
    text = ", ".join(f"{r['name']}: {r['type']}" if r["name"] else r["type"] for r in rows)
    return text if len(text) <= 120 else text[:117] + "..."


# -- promotion ----------------------------------------------------------------------------
def _gates(form: dict[str, list[str]]) -> list[str]:
    """The gates the form asks for, in their command-line form (``metric:auc:higher:0``)."""
    specs = [g.strip() for g in form.get("gate", []) if g.strip()]
    metric = field(form, "metric")
    if metric:
        direction = field(form, "direction", "higher")
        delta = field(form, "min_delta", "0") or "0"
        specs.append(f"metric:{metric}:{direction}:{delta}")
    return list(dict.fromkeys(specs))


def _expected(text: str) -> int | None:
    """The holder the review saw: a version number, or "" when the alias was unset."""
    if not text:
        return None
    if text.isdigit() and len(text) < 12:
        return int(text)
    raise InvalidArgument(f"Invalid expected holder {text!r}.")


def preview_gates(
    service: Registry, name: str, version: int, alias: str, gates: list[Gate]
) -> tuple[int | None, list[GateResult]]:
    """The alias's holder now and each gate's verdict on ``version``; nothing moves."""
    candidate = service.get_model_version(name, version)
    held = service.get_registered_model(name).aliases.get(alias)
    if held == candidate.version:
        return held, []
    current = None if held is None else service.get_model_version(name, held)
    context = GateContext(service, candidate.name, alias, candidate, current)
    return held, [run_gate(gate, context) for gate in gates]


@router.post("/models/{name}/promote", response_class=HTMLResponse)
async def promote(
    request: Request,
    name: str,
    service: Registry = Depends(registry),
    tracking: Client = Depends(client),
) -> HTMLResponse:
    """Review (run the gates, change nothing), then confirm (promote through the registry)."""
    form = await read_form(request)
    values = {k: field(form, k) for k in ("version", "alias", "reason", "metric", "direction")}
    try:
        version = _version_number(field(form, "version"))
        alias = field(form, "alias", "champion") or "champion"
        specs = _gates(form)
        gates = [parse_gate(spec) for spec in specs]
        reason = field(form, "reason")
        if field(form, "step") != "confirm":
            held, results = preview_gates(service, name, version, alias, gates)
            return render(
                request,
                "promote_review.html",
                active="Models",
                name=name,
                version=version,
                alias=alias,
                specs=specs,
                reason=reason,
                held=held,
                results=results,
                passed=all(r.passed for r in results),
            )
        held = service.get_registered_model(name).aliases.get(alias)
        if held != _expected(field(form, "expected")):
            raise InvalidState(
                f"Alias {alias!r} moved to {_holder(held)} since the review: review again."
            )
        result = service.promote(name, version, alias, gates, reason=reason)
    except LoopmlError as exc:
        return _model_view(
            request,
            service,
            tracking,
            name,
            error=exc.message,
            status_code=exc.http_status,
            form=values,
        )
    return render(request, "promote_done.html", active="Models", result=result)


def _version_number(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise InvalidArgument(f"Invalid version {text!r}: choose a version number.")
    return int(text)


def _holder(version: int | None) -> str:
    return "nothing (unset)" if version is None else f"version {version}"


@router.post("/models/{name}/aliases/{alias}/rollback", response_class=HTMLResponse)
async def rollback(
    request: Request,
    name: str,
    alias: str,
    service: Registry = Depends(registry),
    tracking: Client = Depends(client),
) -> HTMLResponse:
    """Review (the alias's holder and history), then confirm (move it back)."""
    form = await read_form(request)
    reason = field(form, "reason")
    try:
        model = service.get_registered_model(name)
        held = model.aliases.get(alias)
        if field(form, "step") != "confirm":
            events = list(reversed(service.alias_history(model.name, alias)))
            return render(
                request,
                "rollback_review.html",
                active="Models",
                name=model.name,
                alias=alias,
                held=held,
                history=events,
                reason=reason,
            )
        if held != _expected(field(form, "expected")):
            raise InvalidState(
                f"Alias {alias!r} moved to {_holder(held)} since the review: review again."
            )
        moved = service.rollback(model.name, alias, reason=reason)
    except LoopmlError as exc:
        return _model_view(
            request, service, tracking, name, error=exc.message, status_code=exc.http_status
        )
    return render(
        request,
        "rollback_done.html",
        active="Models",
        name=moved.name,
        alias=alias,
        previous=held,
        version=moved,
    )
