"""The command line, run as a user runs it: a real subprocess of the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import loopml as lm

LOOPML = str(Path(sys.executable).with_name("loopml"))


def _cli(*args: str, home: Path, uri: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env["LOOPML_HOME"] = str(home)
    env["COLUMNS"] = "200"
    if uri:
        env["LOOPML_TRACKING_URI"] = uri
    return subprocess.run([LOOPML, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_help_lists_the_command_groups(tmp_path: Path) -> None:
    result = _cli("--help", home=tmp_path)
    assert result.returncode == 0
    for group in ("experiments", "runs", "db", "gc", "quickstart"):
        assert group in result.stdout


def test_experiments_commands(tmp_path: Path, uri: str) -> None:
    assert _cli("experiments", "create", "cli-exp", home=tmp_path, uri=uri).returncode == 0
    listed = _cli("experiments", "list", "--json", home=tmp_path, uri=uri)
    names = [e["name"] for e in json.loads(listed.stdout)]
    assert names == ["Default", "cli-exp"]
    again = _cli("experiments", "create", "cli-exp", home=tmp_path, uri=uri)
    assert again.returncode == 1
    assert "exists already" in again.stderr and "Traceback" not in again.stderr
    assert _cli("experiments", "delete", "cli-exp", home=tmp_path, uri=uri).returncode == 0
    table = _cli("experiments", "list", "--all", home=tmp_path, uri=uri)
    assert "deleted" in table.stdout


def test_runs_commands(tmp_path: Path, uri: str) -> None:
    client = lm.Client(uri)
    exp = client.create_experiment("runs-cli")
    run_ids = []
    for i in range(3):
        run = client.create_run(exp, run_name=f"r{i}")
        client.log_metric(run.info.run_id, "acc", i / 2)
        client.log_param(run.info.run_id, "model", "rf" if i else "lr")
        client.log_text(run.info.run_id, "hi", "notes.txt")
        client.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    listed = _cli("runs", "list", "-e", "runs-cli", "--json", home=tmp_path, uri=uri)
    assert len(json.loads(listed.stdout)) == 3
    found = _cli(
        "runs",
        "search",
        "metrics.acc > 0.2 and params.model = 'rf'",
        "-e",
        "runs-cli",
        "--order-by",
        "metrics.acc DESC",
        "--json",
        home=tmp_path,
        uri=uri,
    )
    assert [r["info"]["run_name"] for r in json.loads(found.stdout)] == ["r2", "r1"]
    shown = _cli("runs", "show", run_ids[0], home=tmp_path, uri=uri)
    assert "notes.txt" in shown.stdout and "model = lr" in shown.stdout
    assert _cli("runs", "delete", run_ids[0], home=tmp_path, uri=uri).returncode == 0
    after = _cli("runs", "list", "-e", "runs-cli", "--json", home=tmp_path, uri=uri)
    assert len(json.loads(after.stdout)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "search", "metrics.acc >", "-e", "Default"), "filter"),
        (("runs", "show", "nope"), "No run"),
        (("experiments", "delete", "missing"), "No experiment"),
        (("gc", "--older-than", "soon"), "Invalid duration"),
        (("server", "--backend-store-uri", "http://127.0.0.1:1"), "is a server"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, uri: str, args, message: str) -> None:
    result = _cli(*args, home=tmp_path, uri=uri)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_tracking_uri(tmp_path: Path) -> None:
    result = _cli("experiments", "list", home=tmp_path, uri="mysql://nobody@nowhere/db")
    assert result.returncode == 1 and "Unsupported" in result.stderr


def test_db_upgrade_and_gc(tmp_path: Path, uri: str) -> None:
    assert "up to date" in _cli("db", "upgrade", home=tmp_path, uri=uri).stdout
    client = lm.Client(uri)
    run_id = client.create_run("0").info.run_id
    client.log_text(run_id, "bye", "x.txt")
    client.delete_run(run_id)
    result = _cli("gc", "--json", home=tmp_path, uri=uri)
    assert result.returncode == 0
    assert json.loads(result.stdout)["purged_runs"] == 1


def test_quickstart_refuses_a_folder_in_use(tmp_path: Path) -> None:
    """The whole demo runs in tests/e2e; here: it never runs over a folder holding data."""
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    result = _cli("quickstart", "--exit", "--folder", str(used), home=tmp_path)
    assert result.returncode == 1
    assert "not empty" in result.stderr and "Traceback" not in result.stderr
    assert (used / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "demo").exists()
    help_text = _cli("quickstart", "--help", home=tmp_path)
    assert "--exit" in help_text.stdout
