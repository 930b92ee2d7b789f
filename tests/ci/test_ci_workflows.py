"""The example CI workflows, run: the very commands of examples/ci, in order, on a temporary store.

The commands are read from the GitHub Actions and GitLab CI files (both must
list the same ones), then run with bash as the CI runner would, minus the
install step: first as a merge to main (no champion yet, so version 1 is
promoted), then as a pull request that makes the model worse (the gate step
fails the job and the champion stays).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import loopml as lm
from loopml.registry import Registry
from loopml.tracking import get_client

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
MERGE_ONLY = "github.event_name == 'push'"


def github_commands() -> tuple[list[str], list[str]]:
    """(commands of every run, commands only a merge to main runs), in order."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    steps = workflow["jobs"]["model"]["steps"]
    every, merge = [], []
    for step in steps:
        if "run" not in step or step.get("name") == "Install":
            continue
        (merge if MERGE_ONLY in str(step.get("if", "")) else every).append(step["run"].strip())
    return every, merge


def gitlab_commands() -> tuple[list[str], list[str]]:
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    return list(pipeline["model"]["script"]), list(pipeline["promote"]["script"])


def test_both_ci_systems_run_the_same_commands() -> None:
    every, merge = github_commands()
    assert (every, merge) == gitlab_commands()
    assert [c.split()[:3] for c in every[2:]] == [
        ["loopml", "ci", "report"],
        ["loopml", "ci", "gate"],
    ]
    assert merge[0].startswith("loopml ci promote")


def _run_workflow(commands: list[str], workspace: Path, env: dict[str, str]) -> list[int]:
    """Run the commands as CI does: one shell each, stop at the first failure."""
    codes = []
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert "Traceback" not in done.stderr, done.stderr
        codes.append(done.returncode)
        if done.returncode != 0:
            env["LAST_STDERR"] = done.stderr
            break
    return codes


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root / "examples" / "ci")
    return root


def test_the_workflow_commands_gate_and_promote(workspace: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "LOOPML_TRACKING_URI": store,
        "LOOPML_HOME": str(tmp_path / "home"),
        "LOOPML_CAPTURE_PROVENANCE": "false",
    }
    every, merge = github_commands()
    # A merge to main with no champion yet: every step passes, version 1 becomes champion.
    assert _run_workflow(every + merge, workspace, env) == [0] * (len(every) + len(merge))
    report = (workspace / "ci-report" / "report.md").read_text()
    assert "all 5 gates passed" in report
    assert "no baseline to compare with" in report
    lm.set_tracking_uri(store)
    try:
        registry = Registry()
        assert registry.get_registered_model("churn").aliases["champion"] == 1
        # A pull request that weakens the model: the report says why, the gate step fails.
        weak = {**env, "CHURN_MAX_DEPTH": "1", "CHURN_TREES": "2"}
        codes = _run_workflow(every, workspace, weak)
        assert codes == [0, 0, 0, 1]
        assert "gate failed max_regression:roc_auc" in weak["LAST_STDERR"]
        report = (workspace / "ci-report" / "report.md").read_text()
        assert "gates failed" in report
        assert "models:/churn@champion" in report
        assert "`churn-train@1` →" in report and "rows: 4,000 → 4,000" in report
        gates = {
            g["gate"]: g["passed"]
            for g in json.loads((workspace / "ci-report" / "gates.json").read_text())
        }
        assert gates["max_regression:roc_auc"] is False
        assert gates["signature"] is True
        assert registry.get_registered_model("churn").aliases["champion"] == 1
    finally:
        get_client().close()
