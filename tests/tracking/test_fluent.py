"""The fluent SDK: runs as context managers, nesting, batching, search as a DataFrame."""

from __future__ import annotations

from pathlib import Path

import pytest

import loopml as lm
from loopml.core.errors import InvalidArgument, InvalidState


def test_run_block_logs_everything(fluent: str) -> None:
    with lm.start_run(experiment="exp", run_name="first") as run:
        lm.log_param("lr", 0.1)
        lm.log_params({"depth": 3, "model": "rf"})
        for step in range(10):
            lm.log_metric("loss", 1 / (step + 1), step=step)
        lm.log_metrics({"acc": 0.9, "f1": 0.8})
        lm.set_tag("team", "a")
        lm.set_tags({"stage": "dev"})
    finished = lm.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED" and finished.info.end_time
    assert finished.data.params == {"lr": "0.1", "depth": "3", "model": "rf"}
    assert finished.data.metrics["loss"] == pytest.approx(0.1)
    assert finished.data.tags["team"] == "a" and finished.data.tags["stage"] == "dev"
    assert finished.data.tags["mlflow.source.type"] == "LOCAL"
    client = lm.Client(fluent)
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 10
    assert client.get_experiment(finished.info.experiment_id).name == "exp"


def test_exception_marks_run_failed(fluent: str) -> None:
    with pytest.raises(ZeroDivisionError), lm.start_run() as run:
        lm.log_metric("before", 1.0)
        1 / 0  # noqa: B018
    failed = lm.get_run(run.info.run_id)
    assert failed.info.status == "FAILED"
    assert failed.data.metrics == {"before": 1.0}
    assert lm.active_run() is None


def test_nested_runs(fluent: str) -> None:
    with lm.start_run(run_name="parent") as parent:
        with pytest.raises(InvalidState, match="nested=True"):
            lm.start_run()
        with lm.start_run(run_name="child", nested=True) as child:
            lm.log_metric("m", 1.0)
        assert lm.active_run() is parent
    child_run = lm.get_run(child.info.run_id)
    assert child_run.info.parent_run_id == parent.info.run_id
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_param_change_fails_at_once(fluent: str) -> None:
    with lm.start_run():
        lm.log_param("lr", 0.1)
        with pytest.raises(InvalidArgument, match="Changing param values"):
            lm.log_param("lr", 0.2)


def test_writes_after_end_are_rejected_and_resume_works(fluent: str) -> None:
    with lm.start_run() as run:
        lm.log_metric("m", 1.0)
    client = lm.Client(fluent)
    with pytest.raises(InvalidState, match="FINISHED"):
        client.log_metric(run.info.run_id, "m", 2.0)
    with lm.start_run(run_id=run.info.run_id):
        lm.log_metric("m", 3.0, step=1)
    assert lm.get_run(run.info.run_id).data.metrics["m"] == 3.0


def test_search_runs_dataframe_and_list(fluent: str) -> None:
    lm.set_experiment("search")
    for i in range(3):
        with lm.start_run(run_name=f"r{i}"):
            lm.log_metric("acc", i / 2)
            lm.log_param("model", "rf" if i else "lr")
    frame = lm.search_runs(filter_string="metrics.acc > 0.2", order_by=["metrics.acc DESC"])
    assert list(frame["metrics.acc"]) == [1.0, 0.5]
    assert {"run_id", "status", "start_time", "params.model", "tags.mlflow.runName"} <= set(
        frame.columns
    )
    runs = lm.search_runs(experiment_names=["search"], output_format="list")
    assert len(runs) == 3


def test_artifacts_through_fluent(fluent: str, tmp_path) -> None:
    with lm.start_run() as run:
        lm.log_text("report", "report.txt")
        lm.log_dict({"k": "v"}, "meta/config.json")
        assert [f.path for f in lm.list_artifacts()] == ["meta", "report.txt"]
    out = lm.download_artifacts(run.info.run_id, "meta/config.json", str(tmp_path / "o"))
    assert Path(out).read_text().strip().startswith("{")


def test_deleted_experiment_cannot_take_runs(fluent: str) -> None:
    experiment = lm.set_experiment("doomed")
    lm.Client(fluent).delete_experiment(experiment.experiment_id)
    with pytest.raises(InvalidState, match="restore"):
        lm.start_run(experiment="doomed")
