"""``lm.register_dataset``, ``lm.log_input`` and ``lm.dataset_lineage``: the fluent forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets_support import write_csv

import loopml as lm
from loopml.core.errors import InvalidArgument, NotFound


def test_register_log_and_trace_back_from_a_model(sdk_any_store: str, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "iris.csv")
    v1 = lm.register_dataset("iris", source, description="v1", tags={"team": "bio"})
    assert (v1.version, v1.rows, v1.tags) == (1, 4, {"team": "bio"})
    assert lm.register_dataset("iris", source) == v1
    with lm.start_run() as run:
        lm.log_input(v1)
        lm.log_input("iris", context="evaluation")
        lm.log_text("artifact_path: model\n", "model/MLmodel")
    lm.register_model(f"runs:/{run.info.run_id}/model", "iris-model")
    assert lm.dataset_lineage("models:/iris-model/1") == [v1]
    assert lm.dataset_lineage(run.info.run_id, context="evaluation") == [v1]
    assert lm.dataset_lineage(run.info.run_id, context="testing") == []
    inputs = lm.get_run(run.info.run_id).inputs.dataset_inputs
    assert sorted(i.context for i in inputs) == ["evaluation", "training"]


def test_log_input_starts_a_run_like_mlflow_and_takes_dataset_inputs(
    sdk_any_store: str, tmp_path: Path
) -> None:
    v = lm.register_dataset("iris", write_csv(tmp_path / "iris.csv"))
    lm.log_input("iris@1")  # no active run: one is started, as MLflow does
    run = lm.active_run()
    assert run is not None
    lm.log_input(lm.DatasetInput("raw", "abc123", context="t"))
    lm.log_input(lm.DatasetInput("raw", "abc123", context="t"), context="other")
    lm.end_run()
    recorded = lm.get_run(run.info.run_id).inputs.dataset_inputs
    assert sorted((i.name, i.context) for i in recorded) == [
        ("iris", "training"),
        ("raw", "other"),
        ("raw", "t"),
    ]
    assert lm.dataset_lineage(run.info.run_id) == [v]  # the MLflow-style inputs name no version
    other = lm.start_run().info.run_id
    lm.end_run()
    lm.log_input(v, run_id=other, context="evaluation")  # an explicit run needs no active one
    assert lm.dataset_lineage(other) == [v]


def test_bad_references_start_no_run_and_record_nothing(sdk_any_store: str, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="iris"):
        lm.log_input("iris")
    assert lm.active_run() is None
    with pytest.raises(InvalidArgument):
        lm.log_input("iris@first")
    with pytest.raises(NotFound):
        lm.register_dataset("iris", tmp_path / "nowhere.csv")
    with pytest.raises(InvalidArgument):
        lm.register_dataset("bad/name", write_csv(tmp_path / "x.csv"))
    explicit = lm.Client(sdk_any_store)
    with pytest.raises(InvalidArgument, match="No active run"):
        lm.log_input(lm.DatasetInput("raw", "abc"), client=explicit)
    explicit.close()
