"""Frozen records the object store returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlobInfo:
    """A stored content: its id (BLAKE3 of the bytes), size, and whether it is chunked."""

    id: str
    size: int
    chunked: bool


@dataclass(frozen=True)
class GcReport:
    """What a garbage collection did (or, with ``dry_run``, would do).

    ``deleted`` and ``freed_bytes`` count unreachable objects past the grace
    period; ``kept`` counts every other stored object.
    """

    deleted: int
    freed_bytes: int
    kept: int
