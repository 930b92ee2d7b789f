"""``loopml features apply|list|show``, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

LOOPML = str(Path(sys.executable).with_name("loopml"))

DEFINITIONS = """
from datetime import timedelta

from loopml.features._definitions import (
    Entity, FeatureService, FeatureView, Field, FileSource, on_demand_feature_view,
)

customer = Entity("customer", ("customer_id",))
stats = FeatureView(
    "stats", (customer,), (Field("amount", "{amount_type}"), Field("orders", "int64")),
    FileSource("stats.parquet", "event_timestamp"), ttl=timedelta(hours=6),
    description="{description}",
)

@on_demand_feature_view(sources=[stats], schema=[Field("double", "float64")])
def doubled(frame):
    return frame.assign(double=frame["amount"] * 2)[["double"]]

model_v1 = FeatureService("model_v1", (stats[["amount"]], doubled))
"""


def _cli(*args: str, home: Path, uri: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), LOOPML_TRACKING_URI=uri, COLUMNS="200")
    return subprocess.run([LOOPML, *args], capture_output=True, text=True, env=env, timeout=120)


def _write(repo: Path, amount_type: str = "float64", description: str = "") -> Path:
    repo.mkdir(exist_ok=True)
    path = repo / "definitions.py"
    path.write_text(
        textwrap.dedent(DEFINITIONS).format(amount_type=amount_type, description=description)
    )
    return path


def test_apply_list_show_and_versions(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    repo = tmp_path / "repo"
    _write(repo)
    first = _cli("features", "apply", str(repo), home=tmp_path, uri=uri)
    assert first.returncode == 0, first.stderr
    for line in ("entity", "customer", "stats", "doubled", "model_v1"):
        assert line in first.stdout
    assert first.stdout.count(" new ") == 4

    again = _cli(
        "features", "apply", str(repo / "definitions.py"), "--json", home=tmp_path, uri=uri
    )
    assert again.returncode == 0, again.stderr
    assert [(r["name"], r["version"], r["changed"]) for r in json.loads(again.stdout)] == [
        ("customer", 1, False),
        ("stats", 1, False),
        ("doubled", 1, False),
        ("model_v1", 1, False),
    ]

    _write(repo, description="per customer")
    updated = _cli("features", "apply", str(repo), home=tmp_path, uri=uri)
    assert updated.returncode == 0, updated.stderr
    assert "updated" in updated.stdout and updated.stdout.count("unchanged") == 3

    listed = _cli("features", "list", "--json", home=tmp_path, uri=uri)
    assert {(r["kind"], r["name"], r["version"]) for r in json.loads(listed.stdout)} == {
        ("entity", "customer", 1),
        ("feature_view", "stats", 2),
        ("on_demand_feature_view", "doubled", 1),
        ("feature_service", "model_v1", 1),
    }
    views = _cli("features", "list", "--kind", "view", home=tmp_path, uri=uri)
    assert "amount:float64, orders:int64 of customer, ttl 6h, from file" in views.stdout
    assert "model_v1" not in views.stdout

    shown = _cli("features", "show", "stats", home=tmp_path, uri=uri)
    assert shown.returncode == 0, shown.stderr
    assert "feature_view stats version 2 of 2" in shown.stdout
    assert '"per customer"' in shown.stdout
    old = _cli("features", "show", "stats", "--kind", "view", "--version", "1", "--json",
               home=tmp_path, uri=uri)  # fmt: skip
    record = json.loads(old.stdout)
    assert (record["version"], record["spec"]["description"]) == (1, "")
    assert record["spec"]["source"]["path"] == str(repo / "stats.parquet")


def test_bad_applies_fail_with_one_clear_line(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    repo = tmp_path / "repo"
    _write(repo)
    assert _cli("features", "apply", str(repo), home=tmp_path, uri=uri).returncode == 0

    _write(repo, amount_type="string")
    retyped = _cli("features", "apply", str(repo), home=tmp_path, uri=uri)
    assert retyped.returncode == 1
    assert "stats:amount was float64 in version 1" in retyped.stderr
    assert "rename the view or create stats_v2" in retyped.stderr
    assert "Traceback" not in retyped.stderr

    missing = _cli("features", "apply", str(tmp_path / "nope"), home=tmp_path, uri=uri)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    (repo / "definitions.py").write_text("import nonexistent_module_xyz\n")
    broken = _cli("features", "apply", str(repo), home=tmp_path, uri=uri)
    assert broken.returncode == 1
    assert "failed at line 1: ModuleNotFoundError" in broken.stderr

    unknown = _cli("features", "show", "nothing", home=tmp_path, uri=uri)
    assert unknown.returncode == 1 and "No definition named 'nothing'" in unknown.stderr
    kind = _cli("features", "list", "--kind", "table", home=tmp_path, uri=uri)
    assert kind.returncode == 1 and "Unknown definition kind 'table'" in kind.stderr
