"""Object store fixtures: every store test runs on a local directory and on real S3 (moto)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from objects_support import TEST_THRESHOLD, LocalRaw, MiB, RawStorage, S3Raw

from loopml.objects import ObjectStore, open_object_store
from s3_server import BUCKET, S3Server


@dataclass(frozen=True)
class Target:
    """One place to open stores at, and raw access to what they store there."""

    kind: str
    uri: str
    storage_options: dict[str, Any] | None
    raw: RawStorage

    def open(self, **kwargs: Any) -> ObjectStore:
        kwargs.setdefault("chunking_threshold", TEST_THRESHOLD)
        return open_object_store(self.uri, storage_options=self.storage_options, **kwargs)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """A fresh, empty location: a temp directory or a new prefix in the moto bucket."""
    if request.param == "local":
        root = tmp_path / "objects"
        return Target("local", str(root), None, LocalRaw(root))
    server: S3Server = request.getfixturevalue("s3_server")
    prefix = f"t-{uuid.uuid4().hex}"
    return Target(
        "s3", f"s3://{BUCKET}/{prefix}", server.storage_options, S3Raw(server.client(), prefix)
    )


@pytest.fixture
def store(target: Target) -> ObjectStore:
    """A store with a 1 MiB chunking threshold."""
    return target.open()


@pytest.fixture
def raw(target: Target) -> RawStorage:
    return target.raw


@pytest.fixture
def make_store(target: Target) -> Callable[..., ObjectStore]:
    """Open (another) store at the same location, e.g. with another threshold."""
    return target.open


@pytest.fixture
def tmpfs_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh directory on tmpfs (/dev/shm), whose direct I/O differs from ext4's."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no tmpfs at /dev/shm")
    root = shm / f"loopml-{os.getpid()}-{tmp_path.name}"
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def big_content() -> bytes:
    """40 MiB of random bytes (generated once per worker)."""
    return os.urandom(40 * MiB)
