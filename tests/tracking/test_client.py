"""The explicit Client: validation, logging, artifacts and gc, on both databases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from loopml.core.errors import BackgroundFlushError, CorruptObject, InvalidArgument, NotFound
from loopml.store import DatasetInput, Metric, Param
from loopml.tracking import Client


@pytest.mark.parametrize(
    "key", ["", "a" * 251, "bad$name", "/abs", "a/../b", "a//b", "trailing/", "./a", "../x", ".."]
)
def test_invalid_metric_names_are_rejected(client: Client, key: str) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidArgument, match="metric name"):
        client.log_metric(run_id, key, 1.0)
    assert client.get_run(run_id).data.metrics == {}


@pytest.mark.parametrize("value", ["0.5", None, [1.0], True])
def test_non_numeric_metric_values_are_rejected(client: Client, value: object) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidArgument, match="give a number"):
        client.log_metric(run_id, "m", value)  # type: ignore[arg-type]


def test_bad_item_rejects_the_whole_batch(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidArgument):
        client.log_batch(
            run_id,
            metrics=[Metric("ok", 1.0, 1, 0), Metric("ok", "x", 1, 1)],  # type: ignore[arg-type]
            params=[Param("p", "1")],
        )
    run = client.get_run(run_id)
    assert run.data.metrics == {} and run.data.params == {}


def test_numpy_and_special_values_are_accepted(client: Client) -> None:
    np = pytest.importorskip("numpy")
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "np", np.float32(0.5), step=np.int64(3))
    client.log_metric(run_id, "nan", math.nan)
    client.log_metric(run_id, "inf", math.inf)
    metrics = client.get_run(run_id).data.metrics
    assert metrics["np"] == 0.5 and math.isnan(metrics["nan"]) and metrics["inf"] == math.inf


def test_long_param_values_are_rejected(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "ok", "x" * 6000)
    with pytest.raises(InvalidArgument, match="limit is 6000"):
        client.log_param(run_id, "long", "x" * 6001)


def test_run_names_and_system_tags(client: Client) -> None:
    run = client.create_run("0")
    assert run.info.run_name.count("-") == 2
    assert run.data.tags["mlflow.runName"] == run.info.run_name
    assert "mlflow.user" in run.data.tags
    named = client.create_run("0", run_name="named", tags={"mlflow.runName": "ignored"})
    assert named.info.run_name == "named"


def test_set_terminated_with_bad_status(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidArgument, match="Invalid run status"):
        client.set_terminated(run_id, "DONE")
    assert client.set_terminated(run_id, "failed").status == "FAILED"


def test_asynchronous_writes_flush_and_surface_errors(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    for step in range(100):
        client.log_metric(run_id, "loss", 1 / (step + 1), step=step, synchronous=False)
    client.flush()
    assert len(client.get_metric_history(run_id, "loss")) == 100
    # A conflict only the store can see (another client logged the param) fails in
    # the background; it is raised on the next call, and the good values survive.
    other = Client(client.tracking_uri, settings=client.settings)
    other.log_param(run_id, "lr", "0.1")
    client.log_param(run_id, "lr", "0.2", synchronous=False)
    client.log_metric(run_id, "after", 1.0, synchronous=False)
    client.batcher.write_queued(None)
    with pytest.raises(BackgroundFlushError, match="Changing param values"):
        client.log_metric(run_id, "next", 1.0, synchronous=False)
    client.flush()
    run = client.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert "after" in run.data.metrics
    assert "next" not in run.data.metrics  # the call that raised logged nothing


def test_queued_param_change_fails_at_the_call(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "lr", "0.1", synchronous=False)
    with pytest.raises(InvalidArgument, match="Changing param values"):
        client.log_param(run_id, "lr", "0.3", synchronous=False)


def test_artifacts_round_trip(client: Client, tmp_path: Path) -> None:
    run_id = client.create_run("0").info.run_id
    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "nested" / "b.bin").write_bytes(b"\x00\x01" * 1000)
    client.log_artifacts(run_id, str(source), "bundle")
    client.log_artifact(run_id, str(source / "a.txt"))
    client.log_text(run_id, "hello", "notes/readme.md")
    client.log_dict(run_id, {"a": 1}, "config.json")
    client.log_dict(run_id, {"a": [1, 2]}, "config.yaml")
    top = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert top == {
        ("a.txt", False),
        ("bundle", True),
        ("config.json", False),
        ("config.yaml", False),
        ("notes", True),
    }
    nested = client.list_artifacts(run_id, "bundle")
    assert {(f.path, f.is_dir) for f in nested} == {
        ("bundle/a.txt", False),
        ("bundle/nested", True),
    }
    out = Path(client.download_artifacts(run_id, "bundle", str(tmp_path / "out")))
    assert (out / "nested" / "b.bin").read_bytes() == b"\x00\x01" * 1000
    single = Path(client.download_artifacts(run_id, "config.yaml", str(tmp_path / "one")))
    assert single.read_text().startswith("a:")
    with pytest.raises(NotFound):
        client.download_artifacts(run_id, "missing", str(tmp_path / "x"))


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b", "a\\b"])
def test_artifact_paths_cannot_escape(client: Client, path: str, tmp_path: Path) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidArgument, match="artifact path"):
        client.log_text(run_id, "x", path)
    with pytest.raises(InvalidArgument, match="artifact path"):
        client.download_artifacts(run_id, path, str(tmp_path / "d"))


def test_log_figure(client: Client) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_id = client.create_run("0").info.run_id
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    entry = client.log_figure(run_id, figure, "plots/line.png")
    plt.close(figure)
    assert entry.size > 100
    with pytest.raises(InvalidArgument, match="matplotlib"):
        client.log_figure(run_id, object(), "x.png")


def test_corrupted_artifact_is_detected(client: Client, tmp_path: Path) -> None:
    run_id = client.create_run("0").info.run_id
    entry = client.log_text(run_id, "precious bytes", "data.txt")
    stored = [
        p for p in (tmp_path / "objects").rglob("*") if p.is_file() and entry.blob_id[2:] in p.name
    ]
    assert stored, "the blob should be on disk"
    stored[0].write_bytes(b"tampered bytes")
    with pytest.raises(CorruptObject):
        client.download_artifacts(run_id, "data.txt", str(tmp_path / "dl"))
    assert not (tmp_path / "dl" / "data.txt").exists()


def test_gc_purges_deleted_runs_and_their_blobs(client: Client) -> None:
    keep = client.create_run("0").info.run_id
    drop = client.create_run("0").info.run_id
    client.log_text(keep, "shared", "same.txt")
    client.log_text(drop, "shared", "same.txt")
    client.log_text(drop, "only in the deleted run", "gone.txt")
    client.delete_run(drop)
    young = client.gc()  # blobs are younger than the grace period: nothing goes
    assert young.purged_runs == 1 and young.deleted_objects == 0
    settings = client.settings.model_copy(update={"gc_grace_seconds": 0.0})
    eager = Client(client.tracking_uri, settings=settings, object_store_uri=client.object_store_uri)
    summary = eager.gc()
    assert summary.deleted_objects == 1
    assert Path(eager.download_artifacts(keep, "same.txt")).read_text() == "shared"


def test_log_artifacts_refuses_links_leading_outside(client: Client, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "ok.txt").write_text("fine")
    (folder / "inner-link.txt").symlink_to(folder / "ok.txt")
    (folder / "leak.txt").symlink_to(secret)
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidArgument, match="outside"):
        client.log_artifacts(run_id, str(folder))
    assert client.list_artifacts(run_id) == []
    (folder / "leak.txt").unlink()
    client.log_artifacts(run_id, str(folder))
    assert {f.path for f in client.list_artifacts(run_id)} == {"inner-link.txt", "ok.txt"}


@pytest.mark.parametrize(
    "dataset",
    [
        DatasetInput(name="", digest="d"),
        DatasetInput(name="n", digest=""),
        DatasetInput(name="n" * 257, digest="d"),
        DatasetInput(name="n", digest="d", source_type="t" * 65),
    ],
)
def test_bad_dataset_inputs_write_nothing(client: Client, dataset: DatasetInput) -> None:
    run_id = client.create_run("0").info.run_id
    good = DatasetInput(name="iris", digest="abc")
    with pytest.raises(InvalidArgument, match="Dataset"):
        client.log_inputs(run_id, [good, dataset])
    assert client.get_run(run_id).inputs.dataset_inputs == ()


def test_experiment_search_and_tag_deletion(client: Client) -> None:
    prefix = f"find-{id(client)}"
    ids = [client.create_experiment(f"{prefix}-{i}", tags={"i": str(i)}) for i in range(3)]
    found = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%' AND tags.i != '1'", order_by=["name DESC"]
    )
    assert [e.experiment_id for e in found] == [ids[2], ids[0]]
    with pytest.raises(InvalidArgument, match="experiment filter key"):
        client.search_experiments(filter_string="params.x = '1'")
    client.delete_experiment_tag(ids[0], "i")
    assert client.get_experiment(ids[0]).tags == {}
    with pytest.raises(NotFound):
        client.delete_experiment_tag(ids[0], "i")
