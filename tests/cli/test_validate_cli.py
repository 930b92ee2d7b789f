"""``loopml validate``, run as a CI job runs it: a subprocess of the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import loopml as lm

LOOPML = str(Path(sys.executable).with_name("loopml"))
SUITE = """\
checks:
  - row_count: {min: 3}
  - column: age
    type: numeric
    range: {min: 0, max: 120}
  - column: country
    allowed: [FR, DE, US]
  - column: id
    unique: true
"""


def _cli(*args: str, home: Path, uri: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), COLUMNS="200")
    if uri:
        env["LOOPML_TRACKING_URI"] = uri
    return subprocess.run(
        [LOOPML, "validate", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    good = pd.DataFrame({"id": [1, 2, 3], "age": [20, 40, 60], "country": ["FR", "DE", "US"]})
    bad = pd.DataFrame({"id": [1, 1, 3], "age": [20, 40, 130], "country": ["FR", "JP", "US"]})
    good.to_parquet(tmp_path / "good.parquet")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    (tmp_path / "suite.yaml").write_text(SUITE)
    return {
        "good": str(tmp_path / "good.parquet"),
        "bad": str(tmp_path / "bad.csv"),
        "suite": str(tmp_path / "suite.yaml"),
    }


def test_passing_data_exits_0_with_a_table(files: dict[str, str], tmp_path: Path) -> None:
    done = _cli(files["good"], "--suite", files["suite"], home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "range(age)" in done.stdout and "All 5 check(s) passed." in done.stdout


def test_failing_data_exits_1(files: dict[str, str], tmp_path: Path) -> None:
    done = _cli(files["bad"], "--suite", files["suite"], home=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 of 5 check(s) failed." in done.stdout
    assert "column 'country' has 1 value(s) not in the allowed list" in done.stdout
    assert "Traceback" not in done.stderr


def test_json_output(files: dict[str, str], tmp_path: Path) -> None:
    done = _cli(files["bad"], "--suite", files["suite"], "--json", home=tmp_path)
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["passed"] is False and document["checks_failed"] == 3
    failed = {r["name"] for r in document["results"] if not r["passed"]}
    assert failed == {"range(age)", "allowed(country)", "unique(id)"}


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("data", "does not exist"),
        ("suite", "does not exist"),
        ("bad_suite", "check 1 (line 2): unknown check 'between'"),
    ],
)
def test_bad_input_exits_2(files: dict[str, str], tmp_path: Path, which: str, message: str) -> None:
    data, suite = files["good"], files["suite"]
    if which == "data":
        data = str(tmp_path / "missing.parquet")
    elif which == "suite":
        suite = str(tmp_path / "missing.yaml")
    else:
        suite = str(tmp_path / "bad.yaml")
        Path(suite).write_text("checks:\n  - column: age\n    between: [1, 2]\n")
    done = _cli(data, "--suite", suite, home=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr


def test_log_to_run(files: dict[str, str], tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    client = lm.Client(uri)
    run_id = client.create_run("0").info.run_id
    done = _cli(
        files["bad"], "--suite", files["suite"], "--log-to-run", run_id, home=tmp_path, uri=uri
    )
    assert done.returncode == 1, done.stdout + done.stderr
    metrics = lm.Client(uri).get_run(run_id).data.metrics
    assert metrics["validation_checks_passed"] == 2 and metrics["validation_checks_failed"] == 3
    target = tmp_path / "download"
    local = client.download_artifacts(run_id, "validation/result.json", str(target))
    assert json.loads(Path(local).read_text())["checks_failed"] == 3

    unknown = _cli(
        files["good"], "--suite", files["suite"], "--log-to-run", "nope", home=tmp_path, uri=uri
    )
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
