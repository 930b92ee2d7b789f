"""Foundation: settings, the error tree, ids, hashing and the clock."""

from typing import TYPE_CHECKING, Any

from loopml.core.clock import now_ms
from loopml.core.errors import (
    AlreadyExists,
    BackgroundFlushError,
    CorruptObject,
    GateFailed,
    InvalidArgument,
    InvalidState,
    LoopmlError,
    NotFound,
    PermissionDenied,
    StorageError,
    Unauthenticated,
)
from loopml.core.hashing import hash_bytes, hash_stream, is_hash
from loopml.core.ids import is_run_id, new_id, new_run_id

if TYPE_CHECKING:
    from loopml.core.settings import Settings, load_settings

__all__ = [
    "AlreadyExists",
    "BackgroundFlushError",
    "CorruptObject",
    "GateFailed",
    "InvalidArgument",
    "InvalidState",
    "LoopmlError",
    "NotFound",
    "PermissionDenied",
    "Settings",
    "StorageError",
    "Unauthenticated",
    "hash_bytes",
    "hash_stream",
    "is_hash",
    "is_run_id",
    "load_settings",
    "new_id",
    "new_run_id",
    "now_ms",
]


def __getattr__(name: str) -> Any:
    # Settings load pydantic (~0.1 s): imported on first use, so that a command
    # that needs only the errors (``loopml data status``) starts without it.
    if name in ("Settings", "load_settings"):
        from loopml.core import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'loopml.core' has no attribute {name!r}")
