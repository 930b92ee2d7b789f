"""``loopml datasets``, run as a user runs it: a real subprocess of the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import loopml as lm
from loopml.datasets import Datasets

LOOPML = str(Path(sys.executable).with_name("loopml"))


def _cli(*args: str, home: Path, uri: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), LOOPML_TRACKING_URI=uri, COLUMNS="200")
    return subprocess.run([LOOPML, *args], capture_output=True, text=True, env=env, timeout=120)


def test_register_list_versions_show(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    table = tmp_path / "iris.csv"
    table.write_text("sepal,species\n5.1,setosa\n4.9,setosa\n6.3,virginica\n")
    first = _cli(
        "datasets", "register", "iris", str(table), "-d", "three flowers",
        "--tag", "origin=uci", home=tmp_path, uri=uri,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert (
        "Registered iris version 1: 1 file" in first.stdout and "3 rows x 2 columns" in first.stdout
    )
    same = _cli("datasets", "register", "iris", str(table), home=tmp_path, uri=uri)
    assert "iris version 1 already holds this content" in same.stdout
    table.write_text(table.read_text() + "5.8,versicolor\n")
    second = _cli("datasets", "register", "iris", str(table), "--json", home=tmp_path, uri=uri)
    record = json.loads(second.stdout)
    assert (record["version"], record["rows"], record["tags"]) == (2, 4, {})
    assert record["profile"][1] == {
        "name": "species", "type": "string", "count": 4, "nulls": 0,
        "min": None, "max": None, "mean": None, "distinct": 3,
    }  # fmt: skip
    listed = _cli("datasets", "list", home=tmp_path, uri=uri)
    assert "iris" in listed.stdout and "│ 2 " in listed.stdout
    versions = _cli("datasets", "versions", "iris", home=tmp_path, uri=uri)
    assert versions.stdout.index("│ 2 ") < versions.stdout.index("│ 1 ")  # newest first
    shown = _cli("datasets", "show", "iris@1", home=tmp_path, uri=uri)
    assert "iris version 1 (loopml-dataset:/iris/1)" in shown.stdout
    assert "three flowers" in shown.stdout and "origin = uci" in shown.stdout
    assert "species" in shown.stdout and "virginica" not in shown.stdout
    assert (
        json.loads(_cli("datasets", "show", "iris", "--json", home=tmp_path, uri=uri).stdout)[
            "version"
        ]
        == 2
    )


def test_lineage_of_a_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"png")
    client = lm.Client(uri)
    version = Datasets(client).register("images", folder)
    run_id = client.create_run("0").info.run_id
    Datasets(client).log_input(version, run_id)
    client.close()
    answer = _cli("datasets", "lineage", run_id, home=tmp_path, uri=uri)
    assert answer.returncode == 0, answer.stderr
    assert "images" in answer.stdout and version.content_id[:12] in answer.stdout
    none = _cli("datasets", "lineage", run_id, "--context", "evaluation", "--json",
                home=tmp_path, uri=uri)  # fmt: skip
    assert json.loads(none.stdout) == []


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    for args in (
        ("register", "bad/name", str(table)),
        ("register", "ok", str(tmp_path / "missing.csv")),
        ("register", "ok", str(table), "--tag", "novalue"),
        ("show", "ghost"),
        ("show", "ok@x"),
        ("versions", "ghost"),
        ("lineage", "not-a-run"),
    ):
        answer = _cli("datasets", *args, home=tmp_path, uri=uri)
        assert answer.returncode == 1, args
        assert answer.stderr.startswith("Error:") and "Traceback" not in answer.stderr, args
    assert Datasets(lm.Client(uri)).list() == []  # nothing half-written
