"""Module-level shortcuts over the process-wide tracking client (``lm.promote``...).

Each call builds a ``Registry`` over ``loopml.tracking.get_client()``, so it
follows ``lm.set_tracking_uri`` like the rest of the fluent SDK.
"""

from __future__ import annotations

from collections.abc import Iterable

from loopml.registry._gates import Gate
from loopml.registry._registry import Registry
from loopml.store import ModelVersion, PromotionResult


def promote(
    name: str,
    version: int,
    alias: str = "champion",
    gates: Iterable[Gate] = (),
    *,
    reason: str = "",
    raise_on_failure: bool = False,
) -> PromotionResult:
    """Move ``alias`` of model ``name`` to ``version`` if every gate passes (see Registry)."""
    return Registry().promote(
        name, version, alias, gates, reason=reason, raise_on_failure=raise_on_failure
    )


def rollback(name: str, alias: str = "champion", *, reason: str = "") -> ModelVersion:
    """Move ``alias`` of model ``name`` back to its previous holder; returns that version."""
    return Registry().rollback(name, alias, reason=reason)
