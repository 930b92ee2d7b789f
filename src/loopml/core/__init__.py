"""Foundation: settings, the error tree, ids, hashing and the clock."""

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
