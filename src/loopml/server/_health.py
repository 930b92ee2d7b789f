"""Liveness and readiness: ``/healthz`` (the process answers), ``/readyz`` (its stores do)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from loopml.core.errors import LoopmlError
from loopml.server._deps import service
from loopml.tracking import Client

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health")
def health() -> dict[str, str]:
    """MLflow's liveness path, for tools that wait on it."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(client: Client = Depends(service)) -> JSONResponse:
    checks: dict[str, str] = {}
    for name, probe in (
        ("database", lambda: client.store.get_experiment("0")),
        ("object_store", lambda: client.objects.exists("0" * 64)),
    ):
        try:
            probe()
            checks[name] = "ok"
        except LoopmlError as exc:
            checks[name] = exc.message
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
