"""The manifest of a chunked content: which chunks, in order, make it up.

A manifest is stored under the id of the whole content, so it cannot verify
itself by its own hash; decoding checks its shape, and readers verify every
chunk and finally the whole content against the id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from loopml.core.errors import CorruptObject
from loopml.core.hashing import is_hash

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """Chunk ids and sizes, in content order, and the total size."""

    size: int
    chunks: tuple[tuple[str, int], ...]


def encode_manifest(manifest: Manifest) -> bytes:
    """Canonical compact JSON: the same chunks always give the same bytes."""
    body = {
        "chunks": [[chunk_id, size] for chunk_id, size in manifest.chunks],
        "size": manifest.size,
        "version": FORMAT_VERSION,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def decode_manifest(object_id: str, data: bytes, location: str) -> Manifest:
    """Parse and check a stored manifest; CorruptObject if it is not one."""
    try:
        body: Any = json.loads(data)
        chunks = tuple((str(c), int(n)) for c, n in body["chunks"])
        size = body["size"]
        well_formed = (
            body["version"] == FORMAT_VERSION
            and isinstance(size, int)
            and all(is_hash(c) and n > 0 for c, n in chunks)
            and sum(n for _, n in chunks) == size
        )
    except (ValueError, TypeError, KeyError):
        well_formed = False
    if not well_formed:
        raise CorruptObject(
            f"object {object_id} is corrupt: its chunk manifest at {location} is not valid. "
            "`loopml gc` will not repair it; delete that file and restore the object "
            "from a remote copy, or put the original content again."
        )
    return Manifest(size=size, chunks=chunks)
