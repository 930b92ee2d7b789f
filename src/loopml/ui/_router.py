"""Every page of the UI in one router; each page module owns its own ``router``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from loopml.ui import (
    _audit,
    _compare,
    _data,
    _deployments,
    _experiments,
    _lineage,
    _models,
    _monitoring,
    _run_detail,
    _runs,
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The UI's front door is the experiments list."""
    return RedirectResponse("/experiments", status_code=307)


for _page in (
    _experiments,
    _runs,
    _run_detail,
    _compare,
    _models,
    _deployments,
    _monitoring,
    _data,
    _lineage,
    _audit,
):
    router.include_router(_page.router)
router.include_router(_run_detail.api_router)
router.include_router(_compare.api_router)
