"""Helpers shared by the object store tests (not collected: no ``test_`` prefix)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from s3_server import BUCKET

MiB = 1024 * 1024
TEST_THRESHOLD = 1 * MiB
"""Small enough that a few MiB of test data is chunked."""
MAX_CHUNK = 4 * MiB


def assert_info(info: Any, object_id: str, size: int) -> None:
    """``info`` describes ``object_id``; content above one maximal chunk must be chunked.

    Between the threshold and the maximal chunk size, whether the content is
    cut at all depends on its bytes, so either answer is right.
    """
    assert (info.id, info.size) == (object_id, size)
    if size <= TEST_THRESHOLD:
        assert not info.chunked
    elif size > MAX_CHUNK:
        assert info.chunked


def assert_packed(root: Path, contents: list[bytes]) -> None:
    """Every one of ``contents`` reads back exactly from the packs under ``root`` (as on disk)."""
    from loopml.core.hashing import hash_bytes
    from loopml.objects._fs import LocalBackend
    from loopml.objects._packs import PackIndex

    index = PackIndex(LocalBackend(str(root)))  # a new reader: what is on disk
    for data in contents:
        found = index.find(hash_bytes(data))
        assert found is not None
        assert index.read(hash_bytes(data), found) == data


def object_key(kind: str, object_id: str) -> str:
    """Where the layout puts an object (``blobs/ab/cdef...``)."""
    return f"{kind}/{object_id[:2]}/{object_id[2:]}"


class RawStorage(Protocol):
    """Direct access to the stored files, bypassing the store (to damage them)."""

    def read(self, key: str) -> bytes: ...
    def write(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def list_keys(self) -> list[str]: ...


@dataclass
class LocalRaw:
    root: Path

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        (self.root / key).parent.mkdir(parents=True, exist_ok=True)
        (self.root / key).write_bytes(data)

    def delete(self, key: str) -> None:
        (self.root / key).unlink()

    def list_keys(self) -> list[str]:
        files = (p for p in self.root.rglob("*") if p.is_file())
        return sorted(p.relative_to(self.root).as_posix() for p in files)


@dataclass
class S3Raw:
    client: Any
    prefix: str

    def read(self, key: str) -> bytes:
        response = self.client.get_object(Bucket=BUCKET, Key=f"{self.prefix}/{key}")
        return bytes(response["Body"].read())

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=BUCKET, Key=f"{self.prefix}/{key}", Body=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=BUCKET, Key=f"{self.prefix}/{key}")

    def list_keys(self) -> list[str]:
        found: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=BUCKET, Prefix=f"{self.prefix}/"):
            found.extend(item["Key"][len(self.prefix) + 1 :] for item in page.get("Contents", []))
        return sorted(found)


class Trickle(io.RawIOBase):
    """A non-seekable stream that hands out a few bytes at a time, like a socket."""

    def __init__(self, data: bytes, step: int = 7919) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._step, len(self._data))
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


class ReadOnly:
    """A stream with nothing but ``read`` (no ``readinto``)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(min(size, 100_003) if size >= 0 else size)


def flip_byte(data: bytes, index: int | None = None) -> bytes:
    """``data`` with one byte changed (the middle one by default)."""
    index = len(data) // 2 if index is None else index
    return data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1 :]
