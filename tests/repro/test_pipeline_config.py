"""``loopml pipelines run --config``: parameters from composed YAML, recorded with provenance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from git_work_tree import init_git_work_tree
from loopml.tracking import Client

LOOPML = str(Path(sys.executable).with_name("loopml"))

FLOWS = textwrap.dedent(
    """
    import loopml as lm
    from loopml.pipelines import pipeline, step

    @step
    def fit(train: dict, model: dict) -> float:
        lm.log_metric("score", train["lr"] * train["epochs"])
        return train["lr"]

    @pipeline
    def training(train: dict, model: dict, seed: int = 0):
        fit(train, model)
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = init_git_work_tree(tmp_path / "project")
    (folder / "conf" / "model").mkdir(parents=True)
    (folder / "conf" / "config.yaml").write_text(
        "defaults:\n  - model: rf\ntrain:\n  lr: 0.5\n  epochs: 4\nseed: 7\nnotes: hello\n"
    )
    (folder / "conf" / "model" / "rf.yaml").write_text("name: rf\n")
    (folder / "flows.py").write_text(FLOWS)
    subprocess.run(["git", "-C", str(folder), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(folder), "commit", "-qm", "flows"], check=True)
    return folder


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(
        LOOPML_HOME=str(project.parent / "home"),
        LOOPML_TRACKING_URI=f"sqlite:///{project.parent / 'cli.db'}",
        LOOPML_CAPTURE_PROVENANCE="true",
        COLUMNS="200",
    )
    return subprocess.run(
        [LOOPML, *args], capture_output=True, text=True, env=env, cwd=project, timeout=300
    )


def test_config_fills_parameters_and_is_recorded(project: Path) -> None:
    done = _cli(
        project,
        "pipelines",
        "run",
        "flows:training",
        "--executor",
        "inline",
        "--config",
        "conf",
        "train.lr=0.25",
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    client = Client(f"sqlite:///{project.parent / 'cli.db'}")
    run = client.get_run(run_id)
    params, tags = run.data.params, run.data.tags
    assert params["seed"] == "7" and json.loads(params["train"]) == {"lr": 0.25, "epochs": 4}
    assert params["train.lr"] == "0.25" and params["notes"] == "hello"
    assert params["model.name"] == "rf"
    assert json.loads(tags["loopml.config.overrides"]) == ["train.lr=0.25"]
    # The project's repository, not the one of the `loopml` script's environment.
    head = subprocess.run(
        ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert tags["mlflow.source.git.commit"] == head and tags["loopml.git.dirty"] == "false"
    paths = {e.path for e in client.list_artifact_entries(run_id)}
    assert {"config/config.yaml", "environment/requirements.lock"} <= paths


def test_bad_config_input_is_a_clear_error(project: Path) -> None:
    typo = _cli(project, "pipelines", "run", "flows:training", "--config", "conf", "train.lrr=1")
    assert typo.returncode == 1 and "train.lr" in typo.stderr and "Traceback" not in typo.stderr
    loose = _cli(project, "pipelines", "run", "flows:training", "train.lr=1")
    assert loose.returncode == 1 and "--config" in loose.stderr
    (project / "conf" / "config.yaml").write_text("train: [unclosed\n")
    broken = _cli(project, "pipelines", "run", "flows:training", "--config", "conf")
    assert broken.returncode == 1 and "config.yaml" in broken.stderr and "line" in broken.stderr
