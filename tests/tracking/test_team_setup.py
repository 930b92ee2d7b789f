"""The team set-up: PostgreSQL metadata and S3 artifacts, with the same code as a laptop."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import loopml as lm
from loopml.core.errors import CorruptObject
from loopml.core.settings import Settings
from s3_server import BUCKET, S3Server


@pytest.fixture
def team_client(postgres_uri: str, s3_server: S3Server, tmp_path: Path) -> lm.Client:
    settings = Settings(home=tmp_path / "home", object_store_options=s3_server.storage_options)
    uri = f"s3://{BUCKET}/team-{uuid.uuid4().hex}"
    return lm.Client(postgres_uri, settings=settings, object_store_uri=uri)


def test_artifacts_round_trip_through_s3(team_client: lm.Client, tmp_path: Path) -> None:
    run_id = team_client.create_run("0", run_name="on-s3").info.run_id
    big = tmp_path / "weights.bin"
    big.write_bytes(bytes(range(256)) * 40_000)  # 10 MiB: stored in content-defined chunks
    team_client.log_artifact(run_id, str(big), "model")
    team_client.log_text(run_id, "hello", "notes.txt")
    team_client.log_metric(run_id, "loss", 0.5)
    team_client.set_terminated(run_id)
    assert {f.path for f in team_client.list_artifacts(run_id)} == {"model", "notes.txt"}
    out = Path(team_client.download_artifacts(run_id, "model", str(tmp_path / "out")))
    assert (out / "weights.bin").read_bytes() == big.read_bytes()
    assert team_client.get_run(run_id).data.metrics == {"loss": 0.5}


def test_tampered_s3_object_is_detected(
    team_client: lm.Client, s3_server: S3Server, tmp_path: Path
) -> None:
    run_id = team_client.create_run("0").info.run_id
    entry = team_client.log_text(run_id, "original", "data.txt")
    s3 = s3_server.client()
    prefix = team_client.object_store_uri.split(f"{BUCKET}/", 1)[1]
    keys = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]
        if item["Key"].endswith(entry.blob_id[2:])
    ]
    assert keys
    s3.put_object(Bucket=BUCKET, Key=keys[0], Body=b"tampered")
    with pytest.raises(CorruptObject):
        team_client.download_artifacts(run_id, "data.txt", str(tmp_path / "dl"))
