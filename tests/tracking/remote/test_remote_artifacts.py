"""Artifacts in remote mode: through the server only, verified end to end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.tracking import Client
from server.live_server import LiveServer


def test_a_remote_client_needs_no_object_store(client: Client) -> None:
    assert client.is_remote
    with pytest.raises(InvalidArgument, match="through the server"):
        _ = client.objects
    with pytest.raises(InvalidArgument, match="loopml gc"):
        client.gc()


def test_streams_in_and_out(client: Client, tmp_path: Path) -> None:
    run_id = client.create_run("0").info.run_id
    data = bytes(range(256)) * 40_000  # 10 MB: chunked in the server's object store
    entry = client.log_artifact_stream(run_id, io.BytesIO(data), "big/blob.bin")
    assert entry.size == len(data)
    opened, reader = client.open_artifact(run_id, "big/blob.bin")
    with reader:
        assert opened == entry and reader.read() == data
    assert client.list_artifact_entries(run_id) == [entry]
    other = client.create_run("0").info.run_id
    client.index_artifacts(other, [entry])  # the same content under another run, no upload
    assert Path(client.download_artifacts(other, "big", str(tmp_path / "o"))).is_dir()
    assert (tmp_path / "o" / "big" / "blob.bin").read_bytes() == data


def test_damaged_bytes_on_the_server_are_detected(
    client: Client, module_server: LiveServer, tmp_path: Path
) -> None:
    run_id = client.create_run("0").info.run_id
    entry = client.log_text(run_id, "precious bytes", "data.txt")
    stored = [
        p
        for p in (module_server.home / "objects").rglob("*")
        if p.is_file() and entry.blob_id[2:] in p.name
    ]
    assert stored, "the blob should be on the server's disk"
    stored[0].write_bytes(b"tampered bytes")
    with pytest.raises(CorruptObject):
        client.download_artifacts(run_id, "data.txt", str(tmp_path / "dl"))
    assert not (tmp_path / "dl" / "data.txt").exists()
