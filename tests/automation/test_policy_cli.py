"""``loopml policies``: create from YAML or Python, list, show, trigger, run-pending, history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from policy_world import World
from typer.testing import CliRunner

from loopml.cli import app

POLICY_YAML = """
name: retrain
model: churn
deployment: churn
pipeline: policy_flows:training
params: {weak: true}
model_output: model
holdout: churn-holdout
target: churned
executor: inline
gates: ['min:roc_auc:0.6']
triggers:
  - {type: schedule, cron: '0 3 * * *'}
"""


def _cli(world: World, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        app,
        ["--tracking-uri", world.client.tracking_uri, "policies", *args],
        env={"COLUMNS": "250"},
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.exit_code == code, output
    return output


def test_the_policy_commands(world: World, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_YAML)
    assert "Saved policy retrain" in _cli(world, "create", str(path))
    assert "exists already" in _cli(world, "create", str(path), code=1)
    _cli(world, "create", str(path), "--replace")
    listed = _cli(world, "list")
    assert "retrain" in listed and "schedule" in listed
    assert json.loads(_cli(world, "list", "--json"))[0]["params"] == {"weak": True}

    assert "queued" in _cli(world, "trigger", "retrain", "--reason", "from the cli")
    assert "skipped" in _cli(world, "trigger", "retrain")
    pending = _cli(world, "run-pending", "--json")
    (ran,) = json.loads(pending)
    assert ran["state"] == "failed" and ran["reason"].startswith("gates failed")
    assert "No policy run to advance" in _cli(world, "run-pending")

    # The table wraps long cells to the terminal's width; its content is checked as JSON.
    assert "History of retrain" in _cli(world, "history", "retrain")
    every = json.loads(_cli(world, "history", "retrain", "--json"))
    reasons = " ".join(e["reason"] for e in every)
    assert "manual: from the cli" in reasons and "gates failed" in reasons
    links = {key for e in every for key in e["links"]}
    assert {"pipeline_run", "evaluation_run"} <= links
    events = json.loads(_cli(world, "history", "retrain", "--run", str(ran["id"]), "--json"))
    assert [e["step"] for e in events][-1] == "gates"
    shown = _cli(world, "show", "retrain")
    assert "policy_flows:training" in shown and "failed" in shown
    assert "Deleted policy retrain" in _cli(world, "delete", "retrain")
    assert "No policy named 'retrain'" in _cli(world, "show", "retrain", code=1)


def test_a_policy_from_python_code(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_policies.py").write_text(
        "from loopml.automation import Policy\n"
        "nightly = Policy(name='nightly', model='churn', deployment='churn',\n"
        "                 pipeline='policy_flows:training', holdout='churn-holdout',\n"
        "                 target='churned')\n"
    )
    monkeypatch.chdir(tmp_path)
    assert "Saved policy nightly" in _cli(world, "create", "--from", "my_policies:nightly")
    assert "is not a loopml.automation.Policy" in _cli(
        world, "create", "--from", "my_policies:Policy", code=1
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create"], "Give a policy FILE or --from"),
        (["create", "missing.yaml"], "Cannot read the policy file"),
        (["create", "--from", "nothing"], "module:policy"),
        (["trigger", "nope"], "No policy named 'nope'"),
        (["delete", "bad name"], "Invalid policy name"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(world: World, args: list[str], message: str) -> None:
    assert message in _cli(world, *args, code=1)
