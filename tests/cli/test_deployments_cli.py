"""``loopml deployments``, run as a user runs it: a real subprocess of the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

import loopml as lm
from loopml.deployments import Deployments, PredictionLogger, PredictionRecord, read_predictions

LOOPML = str(Path(sys.executable).with_name("loopml"))


def _cli(*args: str, home: Path, uri: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), LOOPML_TRACKING_URI=uri, COLUMNS="200")
    return subprocess.run([LOOPML, *args], capture_output=True, text=True, env=env, timeout=120)


def test_create_update_show_list_delete(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    created = _cli(
        "deployments", "create", "fraud", "--model", "models:/fraud@champion",
        "--canary", "models:/fraud@challenger", "--canary-weight", "0.1",
        "--shadow", "models:/fraud/2", "--json", home=tmp_path, uri=uri,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["canary_weight"] == 0.1
    updated = _cli(
        "deployments", "update", "fraud", "--no-canary", "--json", home=tmp_path, uri=uri
    )
    record = json.loads(updated.stdout)
    assert (record["canary_uri"], record["canary_weight"], record["revision"]) == (None, 0.0, 2)
    assert record["shadow_uri"] == "models:/fraud/2"
    shown = _cli("deployments", "show", "fraud", home=tmp_path, uri=uri)
    assert "shadow: models:/fraud/2" in shown.stdout and "canary" not in shown.stdout
    listed = _cli("deployments", "list", home=tmp_path, uri=uri)
    assert "fraud" in listed.stdout and "models:/fraud@champion" in listed.stdout
    assert _cli("deployments", "delete", "fraud", home=tmp_path, uri=uri).returncode == 0
    assert Deployments(lm.Client(uri)).list() == []


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    for args in (
        ("create", "x", "--model", "https://example.com/m"),
        ("create", "x", "--model", "models:/m/1", "--canary-weight", "0.5"),
        ("update", "ghost", "--description", "x"),
    ):
        answer = _cli("deployments", *args, home=tmp_path, uri=uri)
        assert answer.returncode == 1, args
        assert answer.stderr.startswith("Error:") and "Traceback" not in answer.stderr
    assert Deployments(lm.Client(uri)).list() == []  # nothing half-written


def test_labels_from_csv(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    client = lm.Client(uri)
    with PredictionLogger(client, "fraud") as logger:
        for i in range(3):
            logger.record(
                PredictionRecord(
                    f"r{i}", i, "fraud", "models:/f/1", "1", "primary", {"x": [i]}, [i], 1.0
                )
            )
    csv_file = tmp_path / "labels.csv"
    csv_file.write_text("request_id,label\nr0,1\nr1,cat\nr2,\n")
    answer = _cli("deployments", "labels", "fraud", str(csv_file), home=tmp_path, uri=uri)
    assert answer.returncode == 0, answer.stderr
    assert "Stored 3 labels" in answer.stdout
    labels = read_predictions("fraud", client=client)["label"].tolist()
    assert labels[:2] == ["1", '"cat"']  # mixed types travel as JSON text
    assert pd.isna(labels[2])
    bad = tmp_path / "bad.csv"
    bad.write_text("id,value\nr0,1\n")
    refused = _cli("deployments", "labels", "fraud", str(bad), home=tmp_path, uri=uri)
    assert refused.returncode == 1 and "request_id" in refused.stderr
    client.close()
