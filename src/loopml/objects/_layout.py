"""Where each object lives: one prefix per kind, sharded by the id's first two hex digits.

``blobs/`` holds whole small contents and the chunks of large ones,
``manifests/`` the chunk lists of large contents (keyed by the id of the whole
content), ``trees/`` the directory listings. The prefix is the marker that
tells garbage collection what an object references.
"""

from __future__ import annotations

import enum

from loopml.core.errors import InvalidArgument
from loopml.core.hashing import is_hash
from loopml.objects._fs import TEMP_PREFIX


class Kind(enum.Enum):
    """What an object is, and so the prefix it is stored under."""

    BLOB = "blobs"
    MANIFEST = "manifests"
    TREE = "trees"


def check_id(value: object) -> str:
    """``value`` if it is an object id (and so safe inside a key); InvalidArgument otherwise."""
    if not isinstance(value, str) or not is_hash(value):
        raise InvalidArgument(
            f"not an object id (expected 64 lowercase hex characters): {value!r:.100}"
        )
    return value


def key_for(kind: Kind, object_id: str) -> str:
    """The storage key of ``object_id`` as a ``kind`` (the id must be checked already)."""
    return f"{kind.value}/{object_id[:2]}/{object_id[2:]}"


def id_from_key(kind: Kind, key: str) -> str | None:
    """The object id stored at ``key`` under ``kind``'s prefix, or None for anything else."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != kind.value or len(parts[1]) != 2:
        return None
    object_id = parts[1] + parts[2]
    return object_id if is_hash(object_id) else None


def is_temp_key(key: str) -> bool:
    """Whether ``key`` is an in-progress (or abandoned) write."""
    return key.rpartition("/")[2].startswith(TEMP_PREFIX)
