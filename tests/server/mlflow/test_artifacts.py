"""Artifacts through the server (``mlflow-artifacts:``), onto loopml's object store and index."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest
from live_server import LiveServer
from mlflow.tracking import MlflowClient
from mlflow_support import api, assert_error, raw_request, unique

import loopml as lm

PREFIX = "/api/2.0/mlflow-artifacts/artifacts"


def test_mlflow_artifacts_land_in_loopml(
    tmp_path: Path, ml: MlflowClient, lm_client: lm.Client
) -> None:
    mlflow.set_experiment(unique("art"))
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.json").write_text('{"b": 1}')
    (folder / "sub" / "empty.txt").write_text("")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # above the object store's chunking threshold
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), artifact_path="data")
        mlflow.log_artifact(str(big))
        mlflow.log_text("hello", "notes/readme.md")
        mlflow.log_dict({"k": [1, 2]}, "config.json")
    run_id = run.info.run_id

    top = ml.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("big.bin", False),
        ("config.json", False),
        ("data", True),
        ("notes", True),
    ]
    assert [f.path for f in ml.list_artifacts(run_id, "data/sub")] == [
        "data/sub/b.json",
        "data/sub/empty.txt",
    ]
    assert ml.list_artifacts(run_id, "data/a.txt") == []  # a file lists nothing
    local = Path(ml.download_artifacts(run_id, "data", str(tmp_path / "down")))
    assert (local / "sub" / "b.json").read_text() == '{"b": 1}'
    assert (local / "sub" / "empty.txt").read_bytes() == b""
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.md") == "hello"
    assert Path(ml.download_artifacts(run_id, "big.bin", str(tmp_path))).read_bytes() == (
        big.read_bytes()
    )

    # The same files in loopml's index, readable with its SDK.
    assert {e.path for e in lm_client.list_artifact_entries(run_id)} == {
        "big.bin",
        "config.json",
        "data/a.txt",
        "data/sub/b.json",
        "data/sub/empty.txt",
        "notes/readme.md",
    }
    mirror = Path(lm_client.download_artifacts(run_id, "", str(tmp_path / "lm")))
    assert (mirror / "data" / "a.txt").read_text() == "alpha"
    assert (mirror / "big.bin").read_bytes() == big.read_bytes()


def test_loopml_artifacts_are_served_to_mlflow(
    tmp_path: Path, server: LiveServer, ml: MlflowClient, lm_client: lm.Client
) -> None:
    exp_id = lm_client.create_experiment(unique("lm-art"))
    run_id = lm_client.create_run(exp_id).info.run_id
    lm_client.log_text(run_id, "from loopml", "reports/summary.txt")
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01" * 1000)
    lm_client.log_artifact(run_id, str(source), "model")

    assert [f.path for f in ml.list_artifacts(run_id)] == ["model", "reports"]
    assert [(f.path, f.file_size) for f in ml.list_artifacts(run_id, "model")] == [
        ("model/weights.bin", 2000)
    ]
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/reports/summary.txt") == "from loopml"
    local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "d")))
    assert (local / "model" / "weights.bin").read_bytes() == source.read_bytes()
    listing = api(server, "GET", "/api/2.0/mlflow/artifacts/list", params={"run_id": run_id})
    assert listing.json()["root_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "%2e%2e/escape.txt",
        "%2E%2E%2Fescape.txt",
        "%252e%252e/escape.txt",
        "a%5C..%5Cescape.txt",
        "a%00b",
        "sub//escape.txt",
    ],
)
def test_traversal_is_refused_and_writes_nothing(
    server: LiveServer, lm_client: lm.Client, path: str
) -> None:
    exp_id = lm_client.create_experiment(unique("trav"))
    run_id = lm_client.create_run(exp_id).info.run_id
    target = f"{PREFIX}/{exp_id}/{run_id}/artifacts/{path}"
    assert_error(raw_request(server, "PUT", target, b"x"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(raw_request(server, "GET", target), 400, "INVALID_PARAMETER_VALUE")
    assert lm_client.list_artifact_entries(run_id) == []
    assert not list(server.home.rglob("escape.txt"))
    listing = api(server, "GET", PREFIX, params={"path": f"{exp_id}/{run_id}/artifacts/{path}"})
    assert 400 <= listing.status_code < 500


def test_paths_outside_runs_are_not_found(server: LiveServer, lm_client: lm.Client) -> None:
    exp_id = lm_client.create_experiment(unique("nf"))
    run_id = lm_client.create_run(exp_id).info.run_id
    other = lm_client.create_experiment(unique("other"))
    for path in (
        f"{exp_id}/{'0' * 32}/artifacts/x.txt",  # no such run
        f"{other}/{run_id}/artifacts/x.txt",  # a run of another experiment
        f"{exp_id}/{run_id}/x.txt",  # not under artifacts/
        f"{exp_id}/models/m-{'0' * 32}/artifacts/x.txt",  # no such logged model
        f"{exp_id}/models/m-{run_id}/artifacts/x.txt",  # a run, not a logged model
        "etc/passwd",
    ):
        assert_error(
            api(server, "PUT", f"{PREFIX}/{path}", content=b"x"), 404, "RESOURCE_DOES_NOT_EXIST"
        )
        assert_error(api(server, "GET", f"{PREFIX}/{path}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert lm_client.list_artifact_entries(run_id) == []
    missing = api(server, "GET", f"{PREFIX}/{exp_id}/{run_id}/artifacts/absent.txt")
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
    lm_client.delete_run(run_id)
    deleted = api(server, "PUT", f"{PREFIX}/{exp_id}/{run_id}/artifacts/x.txt", content=b"x")
    assert_error(deleted, 400, "INVALID_STATE")
