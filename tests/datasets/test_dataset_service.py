"""``Datasets`` on SQLite, PostgreSQL and through a live server: one suite, three stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets_support import unique, write_csv, write_parquet, write_tree

from loopml.core.errors import InvalidArgument, NotFound
from loopml.datasets import Datasets
from loopml.objects import ObjectStore


def test_register_a_csv_records_content_schema_rows_and_profile(
    datasets: Datasets, content_store: ObjectStore, tmp_path: Path
) -> None:
    name = unique("iris")
    source = write_csv(tmp_path / "iris.csv")
    v = datasets.register(name, source, description="four flowers", tags={"origin": "uci", "n": 4})
    assert (v.name, v.version, v.kind, v.files) == (name, 1, "file", 1)
    assert v.size == source.stat().st_size and v.source == str(source)
    assert v.description == "four flowers" and v.tags == {"origin": "uci", "n": "4"}
    assert v.uri == f"loopml-dataset:/{name}/1" and v.user
    assert content_store.get_bytes(v.content_id) == source.read_bytes()
    assert v.schema == {"sepal": "double", "petal": "double", "species": "string", "ok": "bool"}
    assert v.rows == 4
    columns = {c.name: c for c in v.profile or ()}
    assert (columns["sepal"].count, columns["sepal"].nulls) == (4, 0)
    assert (columns["sepal"].min, columns["sepal"].max) == (4.9, 6.3)
    assert columns["sepal"].mean == pytest.approx((5.1 + 4.9 + 6.3 + 5.8) / 4)
    assert (columns["petal"].count, columns["petal"].nulls) == (2, 2)  # empty and NaN
    assert columns["petal"].mean == pytest.approx((1.4 + 4.9) / 2)
    assert (columns["species"].distinct, columns["species"].mean) == (3, None)
    assert (columns["ok"].count, columns["ok"].nulls, columns["ok"].mean) == (3, 1, 2 / 3)
    assert datasets.get(name) == v


def test_same_content_same_version_new_content_next_version(
    datasets: Datasets, tmp_path: Path
) -> None:
    name = unique("iris")
    source = write_csv(tmp_path / "iris.csv")
    first = datasets.add(name, source, description="first")
    copy = write_csv(tmp_path / "elsewhere" / "copy.csv")
    again = datasets.add(name, copy, description="other words")
    assert first.created and not again.created
    assert again.version == first.version and again.version.description == "first"
    source.write_text(source.read_text() + "7.0,5.0,virginica,true\n")
    second = datasets.add(name, source)
    assert second.created and second.version.version == 2 and second.version.rows == 5
    assert [v.version for v in datasets.versions(name)] == [2, 1]
    assert datasets.get(f"{name}@1") == first.version
    assert datasets.get(f"{name}:2") == second.version
    assert datasets.get(f"loopml-dataset:/{name}/1") == first.version
    assert datasets.get(name, 1) == first.version and datasets.latest(name) == second.version
    assert datasets.get(first.version) == first.version
    listed = {d.name: d for d in datasets.list()}
    assert listed[name].latest == second.version


def test_a_folder_is_one_tree_version(
    datasets: Datasets, content_store: ObjectStore, tmp_path: Path
) -> None:
    name = unique("images")
    files = {
        "cats/a.png": b"\x89PNG cat",
        "dogs/b.png": b"\x89PNG dog",
        "labels.txt": b"cat\ndog\n",
    }
    folder = write_tree(tmp_path / "images", files)
    v = datasets.register(name, folder)
    assert (v.kind, v.files, v.size) == ("dir", 3, sum(len(b) for b in files.values()))
    assert v.schema is None and v.rows is None and v.profile is None  # not tabular
    tree = content_store.get_tree(v.content_id)
    assert sorted(tree) == sorted(files)
    assert all(content_store.get_bytes(tree[p].id) == data for p, data in files.items())
    (folder / "dogs" / "b.png").write_bytes(b"\x89PNG another dog")
    assert datasets.register(name, folder).version == 2
    assert datasets.register(name, folder).version == 2  # unchanged: the newest version
    (folder / "dogs" / "b.png").write_bytes(b"\x89PNG dog")
    back = datasets.register(name, folder)  # back to the first content: newest is what was last
    assert back.version == 3 and back.content_id == v.content_id


def test_a_folder_of_parquet_files_is_one_table(datasets: Datasets, tmp_path: Path) -> None:
    folder = tmp_path / "events"
    write_parquet(folder / "day=1" / "part-0.parquet", {"user": ["a", "b"], "clicks": [1, 5]})
    write_parquet(folder / "day=2" / "part-0.parquet", {"user": ["a", "c"], "clicks": [2, None]})
    (folder / "_SUCCESS").write_bytes(b"")
    v = datasets.register(unique("events"), folder)
    assert v.kind == "dir" and v.files == 3
    assert v.schema == {"user": "string", "clicks": "int64"} and v.rows == 4
    clicks = next(c for c in v.profile or () if c.name == "clicks")
    assert (clicks.count, clicks.nulls, clicks.min, clicks.max) == (3, 1, 1, 5)
    user = next(c for c in v.profile or () if c.name == "user")
    assert user.distinct == 3


def test_bad_input_is_refused_and_records_nothing(datasets: Datasets, tmp_path: Path) -> None:
    name = unique("iris")
    source = write_csv(tmp_path / "iris.csv")
    for bad in ("", "a/b", "a:b", "a@b", "..", "x\x00y"):
        with pytest.raises(InvalidArgument):
            datasets.register(bad, source)
    with pytest.raises(InvalidArgument, match="tag"):
        datasets.register(name, source, tags={"": "x"})
    with pytest.raises(NotFound, match="No file or folder"):
        datasets.register(name, tmp_path / "missing.csv")
    with pytest.raises(NotFound, match=f"No dataset named '{name}'"):
        datasets.get(name)
    assert name not in {d.name for d in datasets.list()}
    datasets.register(name, source)
    with pytest.raises(NotFound, match="no version 9"):
        datasets.get(f"{name}@9")
    with pytest.raises(InvalidArgument, match="not a version number"):
        datasets.get(f"{name}@latest")
    with pytest.raises(InvalidArgument):
        datasets.get(name, 0)
    with pytest.raises(NotFound):
        datasets.versions(unique("ghost"))


def test_a_file_that_is_not_a_table_is_registered_without_a_profile(
    datasets: Datasets, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"this is not parquet")
    v = datasets.register(unique("broken"), broken)
    assert v.kind == "file" and v.schema is None and v.profile is None


def test_log_input_and_lineage_through_a_run_and_the_registry(
    datasets: Datasets, tmp_path: Path
) -> None:
    from loopml.registry import Registry

    client = datasets.client
    train = datasets.register(unique("train"), write_csv(tmp_path / "train.csv"))
    test = datasets.register(unique("test"), write_tree(tmp_path / "test", {"x.bin": b"x"}))
    run_id = client.create_run("0").info.run_id
    assert datasets.log_input(train.name, run_id) == train  # the newest, pinned now
    datasets.log_input(test, run_id, context="evaluation")
    datasets.log_input(f"{train.name}@1", run_id)  # the same input again: stored once
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert sorted((i.name, i.context) for i in inputs) == sorted(
        [(train.name, "training"), (test.name, "evaluation")]
    )
    first = next(i for i in inputs if i.name == train.name)
    assert (first.digest, first.source_type, first.source) == (
        train.content_id,
        "loopml",
        train.uri,
    )
    assert '"num_rows": 4' in first.profile and "mlflow_colspec" in first.schema

    client.log_text(run_id, "artifact_path: model\n", "model/MLmodel")
    model = unique("model")
    Registry(client).create_model_version(model, f"runs:/{run_id}/model")
    assert sorted(v.name for v in datasets.lineage(f"models:/{model}/1")) == sorted(
        [train.name, test.name]
    )
    assert datasets.lineage(run_id, context="training") == [train]
    assert datasets.lineage(f"runs:/{run_id}/model", context="evaluation") == [test]
    with pytest.raises(InvalidArgument, match="models:/"):
        datasets.lineage("not a run")
    with pytest.raises(NotFound):
        datasets.lineage(f"models:/{model}/7")
    with pytest.raises(NotFound):
        datasets.log_input(f"{train.name}@5", run_id)
    with pytest.raises(InvalidArgument, match="context"):
        datasets.log_input(train, run_id, context="")
