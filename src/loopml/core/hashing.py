"""BLAKE3 hashing: the address of every byte the platform keeps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import BinaryIO

import blake3

HASH_HEX_LENGTH = 64
READ_SIZE = 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]{64}$")


def hash_bytes(data: bytes | memoryview) -> str:
    """Hex BLAKE3 digest of ``data`` (multithreaded for large inputs)."""
    hasher = (
        blake3.blake3(max_threads=blake3.blake3.AUTO) if len(data) > READ_SIZE else blake3.blake3()
    )
    hasher.update(data)
    return hasher.hexdigest()


def hash_stream(stream: BinaryIO, read_size: int = READ_SIZE) -> str:
    """Hex BLAKE3 digest of a stream read to its end, in bounded memory."""
    hasher = blake3.blake3()
    while chunk := stream.read(read_size):
        hasher.update(chunk)
    return hasher.hexdigest()


def hash_chunks(chunks: Iterable[bytes]) -> str:
    """Hex BLAKE3 digest of the concatenation of ``chunks``."""
    hasher = blake3.blake3()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


def is_hash(value: str) -> bool:
    """Whether ``value`` is a well-formed hex BLAKE3 digest (and so safe in a path)."""
    return bool(_HEX.match(value))
