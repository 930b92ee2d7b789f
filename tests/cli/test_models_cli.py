"""``loopml models``, run as a user runs it: a real subprocess of the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import loopml as lm
from loopml.registry import Registry

LOOPML = str(Path(sys.executable).with_name("loopml"))


def _cli(*args: str, home: Path, uri: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), LOOPML_TRACKING_URI=uri, COLUMNS="200")
    return subprocess.run([LOOPML, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def uri(tmp_path: Path) -> str:
    """A store with model 'fraud': version 1 (accuracy 0.9) and 2 (0.8), no alias yet."""
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    client = lm.Client(uri)
    registry = Registry(client)
    for accuracy in (0.9, 0.8):
        run_id = client.create_run("0").info.run_id
        client.log_text(run_id, "artifact_path: model\n", "model/MLmodel")
        client.log_text(run_id, "weights", "model/weights.bin")
        client.log_metric(run_id, "accuracy", accuracy)
        registry.create_model_version("fraud", f"runs:/{run_id}/model")
    client.close()
    return uri


def test_list_and_versions(tmp_path: Path, uri: str) -> None:
    listed = _cli("models", "list", "--json", home=tmp_path, uri=uri)
    assert [m["name"] for m in json.loads(listed.stdout)] == ["fraud"]
    table = _cli("models", "versions", "fraud", home=tmp_path, uri=uri)
    assert "Versions of fraud" in table.stdout and "runs:/" in table.stdout
    assert table.stdout.index("│ 2 ") < table.stdout.index("│ 1 ")  # newest first


def test_promote_rollback_and_delete(tmp_path: Path, uri: str) -> None:
    first = _cli(
        "models",
        "promote",
        "fraud",
        "1",
        "--gate",
        "metric:accuracy",
        "--reason",
        "baseline",
        home=tmp_path,
        uri=uri,
    )
    assert first.returncode == 0, first.stderr
    assert "pass metric:accuracy" in first.stdout and "champion -> version 1" in first.stdout
    refused = _cli(
        "models",
        "promote",
        "fraud",
        "2",
        "--gate",
        "metric:accuracy",
        "--gate",
        "signature",
        home=tmp_path,
        uri=uri,
    )
    assert refused.returncode == 1
    assert "FAIL metric:accuracy" in refused.stdout and "0.8" in refused.stdout
    assert "champion stays at version 1" in refused.stderr
    Registry(lm.Client(uri)).set_alias("fraud", "champion", 2, reason="manual override")
    back = _cli(
        "models", "rollback", "fraud", "champion", "--reason", "oops", home=tmp_path, uri=uri
    )
    assert back.returncode == 0 and "champion -> version 1" in back.stdout
    shown = _cli("models", "show", "fraud", home=tmp_path, uri=uri)
    assert "champion -> version 1" in shown.stdout
    assert "(rollback): oops" in shown.stdout and "manual override" in shown.stdout
    assert "gates:" in shown.stdout and "passed" in shown.stdout  # the first promotion's
    refused_delete = _cli("models", "delete", "fraud", home=tmp_path, uri=uri)
    assert refused_delete.returncode == 1 and "'champion'" in refused_delete.stderr
    assert (
        _cli("models", "delete", "fraud", "--version", "2", home=tmp_path, uri=uri).returncode == 0
    )
    remaining = Registry(lm.Client(uri)).list_model_versions("fraud")
    assert [v.version for v in remaining] == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models", "show", "nope"), "No registered model named 'nope'"),
        (("models", "promote", "fraud", "1", "--gate", "bogus"), "Invalid gate 'bogus'"),
        (("models", "rollback", "fraud", "champion"), "Cannot roll back"),
        (("models", "list", "--filter", "name ~ 'x'"), "filter"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, uri: str, args, message: str) -> None:
    result = _cli(*args, home=tmp_path, uri=uri)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
