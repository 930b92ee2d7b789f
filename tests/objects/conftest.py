"""Object store fixtures: every store test runs on a local directory and on real S3 (moto)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from objects_support import BUCKET, TEST_THRESHOLD, LocalRaw, MiB, RawStorage, S3Raw, S3Server

from loopml.objects import ObjectStore, open_object_store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3 API (moto's server mode) on a free loopback port, with one bucket."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(endpoint, timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail("moto server did not answer within 30 s")
                time.sleep(0.1)
        server = S3Server(
            endpoint=endpoint,
            storage_options={
                "endpoint_url": endpoint,
                "key": "testing",
                "secret": "testing",
                "client_kwargs": {"region_name": "us-east-1"},
            },
        )
        server.client().create_bucket(Bucket=BUCKET)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


@pytest.fixture(scope="session")
def big_content() -> bytes:
    """40 MiB of random bytes (generated once per worker)."""
    return os.urandom(40 * MiB)
