"""Loading definitions from Python files and folders, as `feast apply` reads a repository."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from loopml.core.errors import InvalidArgument
from loopml.features._definitions import Entity, FeatureService, FeatureView, OnDemandFeatureView
from loopml.features._repo import load_definitions

ENTITIES = """
from loopml.features._definitions import Entity

customer = Entity("customer", ("customer_id",))
also_customer = customer  # bound twice, collected once
"""

VIEWS = """
from datetime import timedelta

from entities import customer
from loopml.features._definitions import (
    FeatureService, FeatureView, Field, FileSource, on_demand_feature_view,
)

stats = FeatureView(
    "stats", (customer,), (Field("amount", "float64"),),
    FileSource("data/stats.parquet", "event_timestamp"), ttl=timedelta(days=1),
)
remote = FeatureView(
    "remote", (customer,), (Field("x", "int64"),), FileSource("s3://bucket/x.parquet", "ts"),
)

@on_demand_feature_view(sources=[stats], schema=[Field("double", "float64")])
def doubled(frame):
    return frame.assign(double=frame["amount"] * 2)[["double"]]

service = FeatureService("model", (stats, doubled))
NOT_A_DEFINITION = 3
"""


def _repo(tmp_path: Path, name: str = "repo") -> Path:
    root = tmp_path / name
    (root / "sub").mkdir(parents=True)
    (root / "entities.py").write_text(textwrap.dedent(ENTITIES))
    (root / "sub" / "views.py").write_text(textwrap.dedent(VIEWS))
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "ignored.py").write_text("raise SystemExit('never imported')\n")
    return root


def test_a_folder_yields_every_module_level_definition_once(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    found = load_definitions(root)
    assert [type(d).__name__ for d in found] == [
        "Entity",
        "FeatureView",
        "FeatureView",
        "OnDemandFeatureView",
        "FeatureService",
    ]  # fmt: skip  (views.py imports the entity: the same object, collected once)
    entity, stats, remote, doubled, service = found
    assert isinstance(entity, Entity) and entity.name == "customer"
    assert isinstance(stats, FeatureView) and isinstance(remote, FeatureView)
    # A relative path is anchored at the defining file's folder; URIs stay as written.
    assert stats.source.path == str(root / "sub" / "data" / "stats.parquet")  # type: ignore[union-attr]
    assert remote.source.path == "s3://bucket/x.parquet"  # type: ignore[union-attr]
    assert isinstance(doubled, OnDemandFeatureView)
    assert doubled.function == "sub.views:doubled"
    assert isinstance(service, FeatureService)


def test_a_single_file_is_imported_under_its_stem(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    found = load_definitions(root / "entities.py")
    assert found == [Entity("customer", ("customer_id",))]


def test_loading_again_sees_the_edited_file(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    load_definitions(root / "entities.py")
    (root / "entities.py").write_text(ENTITIES.replace('"customer_id"', '"cid"'))
    assert load_definitions(root / "entities.py")[0].join_keys == ("cid",)  # type: ignore[union-attr]
    # Another repository with a file of the same name replaces the first one's module.
    other = _repo(tmp_path, "other")
    assert load_definitions(other / "entities.py")[0].join_keys == ("customer_id",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("broken.py", "x = 1\ny = (\n", "Loading .*broken.py failed at line"),
        ("failing.py", "a = 1\nraise RuntimeError('boom')\n", "line 2: RuntimeError: boom"),
        ("empty_defs.py", "x = 1\n", "defines no entity, feature view"),
        ("json.py", "x = 1\n", "module 'json': that name is taken"),
        ("bad-name.py", "x = 1\n", "not a Python module name"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidArgument, match=message):
        load_definitions(path)


def test_missing_and_non_python_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        load_definitions(tmp_path / "nothing.py")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(InvalidArgument, match=r"not a Python file \(.py\)"):
        load_definitions(tmp_path / "notes.txt")


def test_loading_leaves_sys_path_as_it_was(tmp_path: Path) -> None:
    """A repo folder holding json.py must not shadow the standard module afterwards."""
    import sys

    (tmp_path / "json.py").write_text("x = 1\n")
    before = list(sys.path)
    with pytest.raises(InvalidArgument):
        load_definitions(tmp_path / "json.py")
    assert sys.path == before
