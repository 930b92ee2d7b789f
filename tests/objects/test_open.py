"""Opening stores by URI, the public names, and error translation at the storage seam."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import loopml.objects
from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.objects import ObjectStore, open_object_store
from s3_server import S3Server


def test_exported_names() -> None:
    assert sorted(loopml.objects.__all__) == [
        "BlobInfo",
        "ChunkReader",
        "GcReport",
        "ObjectSet",
        "ObjectStore",
        "PackWriter",
        "TransferReport",
        "Tree",
        "TreeEntry",
        "local_packed_ids",
        "open_object_store",
        "reachable",
        "transfer",
        "validate_tree_path",
        "write_chunks_atomically",
    ]
    for name in loopml.objects.__all__:
        assert getattr(loopml.objects, name).__module__.startswith("loopml.objects")


def test_local_store_creates_its_directory(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "objects"
    store = open_object_store(str(root))
    assert root.is_dir()
    assert isinstance(store, ObjectStore)
    object_id = store.put_bytes(b"hello")
    assert (root / "blobs" / object_id[:2] / object_id[2:]).read_bytes() == b"hello"
    assert open_object_store(root.as_uri()).get_bytes(object_id) == b"hello"
    assert store.uri == str(root)


@pytest.mark.parametrize(
    ("uri", "options"),
    [
        ("", None),
        ("nosuchprotocol://x/y", None),
    ],
)
def test_unusable_uris_are_invalid(uri: str, options: dict[str, str] | None) -> None:
    with pytest.raises(InvalidArgument):
        open_object_store(uri, storage_options=options)


@pytest.mark.parametrize("threshold", [0, -5, 1.5, True])
def test_threshold_is_checked(tmp_path: Path, threshold: object) -> None:
    with pytest.raises(InvalidArgument, match="chunking_threshold"):
        open_object_store(str(tmp_path), chunking_threshold=threshold)  # type: ignore[arg-type]


def test_local_store_on_a_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(StorageError):
        open_object_store(str(blocker / "objects"))


@pytest.mark.s3
def test_missing_bucket_is_translated(s3_server: S3Server) -> None:
    store = open_object_store(
        "s3://no-such-bucket-here/prefix", storage_options=s3_server.storage_options
    )
    with pytest.raises(StorageError) as excinfo:
        store.put_bytes(b"data")
    assert "no-such-bucket-here" in str(excinfo.value)
    with pytest.raises(NotFound):
        store.get_bytes("0" * 64)
    assert not store.exists("0" * 64)


@pytest.mark.s3
def test_unreachable_endpoint_is_a_storage_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": "us-east-1"},
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
    }
    store = open_object_store("s3://bucket/prefix", storage_options=options)
    with pytest.raises(StorageError, match="Could not connect"):
        store.put_bytes(b"data")
    with pytest.raises(StorageError, match="listing"):
        list(store.iter_ids())


def test_chunk_streams_write_whole_files_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    loopml.objects.write_chunks_atomically(target, iter([b"ab", b"", b"cd"]))
    assert target.read_bytes() == b"abcd"

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise OSError("connection lost")

    with pytest.raises(OSError, match="connection lost"):
        loopml.objects.write_chunks_atomically(tmp_path / "never.bin", broken())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]  # no temporary left
    reader = io.BufferedReader(loopml.objects.ChunkReader(iter([b"he", b"llo", b" world"])))
    assert reader.read(4) == b"hell" and reader.read() == b"o world"
