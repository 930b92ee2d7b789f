"""The native REST API, ``/api/v1``: every tracking operation of the SDK."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
