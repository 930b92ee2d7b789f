"""A run recorded from a real git repository is rebuilt and re-run by ``loopml reproduce``.

A training script with Hydra-style configuration runs as a subprocess in a
git work tree with uncommitted changes and a registered input dataset; the
reproduction clones the commit, applies the diff, restores the data, writes
the environment lock and re-runs the same command as a new linked run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from git_work_tree import init_git_work_tree
from loopml.core.errors import InvalidArgument
from loopml.repro import diff_runs, reproduce
from loopml.tracking import Client
from loopml.tracking._provenance import LOCK_ARTIFACT

LOOPML = str(Path(sys.executable).with_name("loopml"))

TRAIN = """
import pandas as pd
import loopml as lm


@lm.configured("conf")
def train(cfg):
    data = pd.read_csv("data/points.csv")
    version = lm.register_dataset("points", "data/points.csv")
    lm.log_input(version)
    score = float(data["y"].sum()) * cfg.select("train.lr") + len(cfg["model"]["name"])
    lm.log_metric("score", score)
    return score


if __name__ == "__main__":
    train()
"""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return done.stdout.decode().strip()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = init_git_work_tree(tmp_path / "project")
    (root / "conf" / "model").mkdir(parents=True)
    (root / "conf" / "config.yaml").write_text(
        "defaults:\n  - model: rf\n  - _self_\ntrain:\n  lr: 0.5\n  epochs: 3\n"
    )
    (root / "conf" / "model" / "rf.yaml").write_text("name: rf\ntrees: 100\n")
    (root / "conf" / "model" / "xgb.yaml").write_text("name: xgboost\ndepth: 6\n")
    (root / "train.py").write_text(TRAIN)
    (root / ".gitignore").write_text("data/\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "first")
    (root / "data").mkdir()
    (root / "data" / "points.csv").write_text("x,y\n1,2\n2,4\n3,6\n")
    # Uncommitted: a changed default and a new helper file.
    (root / "conf" / "config.yaml").write_text(
        "defaults:\n  - model: rf\n  - _self_\ntrain:\n  lr: 0.25\n  epochs: 3\n"
    )
    (root / "notes.txt").write_text("tuning in progress\n")
    return root


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(
        LOOPML_HOME=str(tmp_path / "home"),
        LOOPML_TRACKING_URI=f"sqlite:///{tmp_path / 'loopml.db'}",
        LOOPML_OBJECT_STORE_URI=str(tmp_path / "objects"),
        LOOPML_EXPERIMENT_NAME="repro",
        LOOPML_CAPTURE_PROVENANCE="true",
    )
    return env


def _train(project: Path, tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "train.py", *overrides],
        cwd=project,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _client(tmp_path: Path) -> Client:
    return Client(f"sqlite:///{tmp_path / 'loopml.db'}", object_store_uri=str(tmp_path / "objects"))


def _only_run(client: Client) -> str:
    experiment = client.get_experiment_by_name("repro")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    return run.info.run_id


def test_a_run_records_code_config_and_environment(project: Path, tmp_path: Path) -> None:
    done = _train(project, tmp_path, "train.lr=0.1", "model=xgb")
    assert done.returncode == 0, done.stderr
    client = _client(tmp_path)
    run = client.get_run(_only_run(client))
    tags, params = run.data.tags, run.data.params
    assert tags["mlflow.source.git.commit"] == _git(project, "rev-parse", "HEAD")
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["loopml.git.dirty"] == "true" and tags["loopml.entry_point"] == "train.py"
    assert json.loads(tags["loopml.command"])[1:] == ["train.py", "train.lr=0.1", "model=xgb"]
    assert tags["loopml.config.choice.model"] == "xgb"
    assert params["train.lr"] == "0.1" and params["model.name"] == "xgboost"
    assert params["train.epochs"] == "3"
    files = {e.path for e in client.list_artifact_entries(run.info.run_id)}
    assert {"code/diff.patch", LOCK_ARTIFACT, "config/config.yaml"} <= files
    env = subprocess.run(
        [LOOPML, "runs", "env", run.info.run_id],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env.returncode == 0 and "\npydantic==" in env.stdout and "# python" in env.stdout


def test_reproduce_rebuilds_and_reruns(project: Path, tmp_path: Path) -> None:
    assert _train(project, tmp_path, "train.lr=0.1").returncode == 0
    client = _client(tmp_path)
    original = _only_run(client)
    into = tmp_path / "again"
    done = subprocess.run(
        [LOOPML, "reproduce", original, "--into", str(into)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied the run's uncommitted changes" in done.stdout
    assert (into / "notes.txt").read_text() == "tuning in progress\n"
    assert "lr: 0.25" in (into / "conf" / "config.yaml").read_text()
    assert (into / "data" / "points.csv").read_text() == "x,y\n1,2\n2,4\n3,6\n"
    assert "pip install -r requirements.lock" in done.stdout
    assert (into / "requirements.lock").read_text().startswith("#")

    client = _client(tmp_path)
    experiment = client.get_experiment_by_name("repro")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.`loopml.reproduces` = '{original}'"
    )
    (again,) = runs
    compared = diff_runs(client, original, again.info.run_id)
    assert compared.params == () and compared.metrics == ()
    assert compared.code == () and compared.same_diff is True
    assert compared.identical_setup


def test_reproduce_refuses_what_it_cannot_rebuild(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _train(project, tmp_path).returncode == 0
    client = _client(tmp_path)
    original = _only_run(client)
    # The recorded changes no longer apply: the commit they were made on is gone from
    # the work tree's branch history only if rewritten; simulate a conflicting patch.
    from loopml.tracking._provenance import DIFF_ARTIFACT

    client.log_text(
        original, "--- a/missing.txt\n+++ b/missing.txt\n@@ -1 +1 @@\n-x\n+y\n", DIFF_ARTIFACT
    )
    with pytest.raises(InvalidArgument, match="do not apply"):
        reproduce(client, original, into=tmp_path / "bad", run=False)
    assert not (tmp_path / "bad").exists()  # a refused reproduction leaves nothing behind
    without = reproduce(client, original, into=tmp_path / "plain", run=False, without_diff=True)
    assert (
        not without.applied_diff
        and "lr: 0.5" in (tmp_path / "plain" / "conf" / "config.yaml").read_text()
    )
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(InvalidArgument, match="not an empty folder"):
        reproduce(client, original, into=tmp_path / "busy", run=False)


def test_outside_git_the_run_says_so_and_cannot_be_reproduced(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "job.py").write_text(
        "import loopml as lm\nwith lm.start_run():\n    lm.log_metric('m', 1.0)\n"
    )
    done = subprocess.run(
        [sys.executable, "job.py"],
        cwd=folder,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    client = _client(tmp_path)
    run = client.get_run(_only_run(client))
    assert run.data.tags["loopml.git.in_repo"] == "false"
    assert "mlflow.source.git.commit" not in run.data.tags
    with pytest.raises(InvalidArgument, match="recorded no git commit"):
        reproduce(client, run.info.run_id, into=tmp_path / "x")


def test_bad_config_overrides_stop_before_any_run(project: Path, tmp_path: Path) -> None:
    done = _train(project, tmp_path, "train.lrr=0.1")
    assert done.returncode == 2 and "train.lr" in done.stderr and "Traceback" not in done.stderr
    client = _client(tmp_path)
    assert client.get_experiment_by_name("repro") is None or not client.search_runs(
        [client.get_experiment_by_name("repro").experiment_id]  # type: ignore[union-attr]
    )


def test_multirun_starts_one_child_run_per_combination(project: Path, tmp_path: Path) -> None:
    done = _train(project, tmp_path, "-m", "train.lr=0.1,0.2", "model=rf,xgb")
    assert done.returncode == 0, done.stderr
    client = _client(tmp_path)
    experiment = client.get_experiment_by_name("repro")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(runs) == 5 and len(children) == 4
    combos = {(r.data.params["train.lr"], r.data.params["model.name"]) for r in children}
    assert combos == {("0.1", "rf"), ("0.1", "xgboost"), ("0.2", "rf"), ("0.2", "xgboost")}
