"""``diff_runs`` and ``loopml runs diff`` on runs with recorded environments and inputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopml.cli import app
from loopml.core.errors import NotFound
from loopml.core.settings import Settings
from loopml.repro import diff_runs
from loopml.tracking import Client
from loopml.tracking._provenance import DIFF_ARTIFACT, LOCK_ARTIFACT

HEADER = "# python: 3.11.9\n# implementation: CPython\n# platform: Linux\n"
LOCK_A = HEADER + "numpy==2.1.0\npandas==2.2.0\nscipy==1.14.0\n"
LOCK_B = HEADER + "numpy==2.2.0\npandas==2.2.0\npolars==1.0.0\n"


@pytest.fixture
def client(tmp_path: Path, settings: Settings) -> Iterator[Client]:
    # The default object store of this database, as the CLI finds it too.
    tracking = Client(f"sqlite:///{tmp_path / 'loopml.db'}", settings=settings)
    yield tracking
    tracking.close()


def _run(client: Client, lr: str, score: float, lock: str, commit: str, patch: str) -> str:
    run_id = client.create_run(
        "0",
        tags={
            "mlflow.source.git.commit": commit,
            "loopml.git.dirty": "true",
            "loopml.env.digest": lock[-12:],
        },
    ).info.run_id
    client.log_param(run_id, "lr", lr)
    client.log_param(run_id, "epochs", "3")
    client.log_metric(run_id, "score", score)
    client.log_text(run_id, lock, LOCK_ARTIFACT)
    client.log_text(run_id, patch, DIFF_ARTIFACT)
    client.flush()
    return run_id


def test_what_differs_between_two_runs(client: Client) -> None:
    a = _run(client, "0.1", 0.5, LOCK_A, "aaa", "patch-1")
    b = _run(client, "0.2", 0.75, LOCK_B, "bbb", "patch-2")
    found = diff_runs(client, a, b)
    assert [(c.key, c.a, c.b) for c in found.params] == [("lr", "0.1", "0.2")]
    assert found.same_params == 1
    (score,) = found.metrics
    assert score.delta == pytest.approx(0.25)
    assert [(c.key, c.a, c.b) for c in found.code] == [("mlflow.source.git.commit", "aaa", "bbb")]
    assert found.same_diff is False
    assert found.packages_added == (("polars", "1.0.0"),)
    assert found.packages_removed == (("scipy", "1.14.0"),)
    assert found.packages_changed == (("numpy", "2.1.0", "2.2.0"),)
    assert not found.identical_setup

    same = diff_runs(client, a, _run(client, "0.1", 0.5, LOCK_A, "aaa", "patch-1"))
    assert same.identical_setup and same.metrics == () and same.same_diff is True

    result = CliRunner().invoke(app, ["--tracking-uri", client.tracking_uri, "runs", "diff", a, b])
    assert result.exit_code == 0, result.output
    assert "numpy" in result.output and "polars" in result.output and "+0.25" in result.output


def test_unknown_runs_are_clear_errors(client: Client) -> None:
    a = _run(client, "0.1", 0.5, LOCK_A, "aaa", "p")
    with pytest.raises(NotFound):
        diff_runs(client, a, "0" * 32)
    result = CliRunner().invoke(
        app, ["--tracking-uri", client.tracking_uri, "runs", "env", "f" * 32]
    )
    assert result.exit_code == 1 and "Error" in result.output


def test_one_environment_is_stored_once(client: Client) -> None:
    from loopml.tracking import capture_provenance, store_artifacts

    captured = capture_provenance()
    runs = [client.create_run("0", tags=captured.tags).info.run_id for _ in range(3)]
    for run_id in runs:
        store_artifacts(client, run_id, captured)
    blobs = {
        entry.blob_id
        for run_id in runs
        for entry in client.list_artifact_entries(run_id, LOCK_ARTIFACT)
    }
    assert len(blobs) == 1  # three runs, one stored lock
    assert all(client.get_run(r).data.tags["loopml.env.digest"] for r in runs)


def test_the_interpreter_name_is_not_a_code_difference(client: Client) -> None:
    def run(command: str) -> str:
        return client.create_run("0", tags={"loopml.command": command}).info.run_id

    same = diff_runs(client, run('["python", "t.py", "a=1"]'), run('["python3.11", "t.py", "a=1"]'))
    assert same.code == ()
    other = diff_runs(client, run('["python", "t.py", "a=1"]'), run('["python", "t.py", "a=2"]'))
    assert [c.key for c in other.code] == ["loopml.command"]
