"""Running pipelines: parent and child runs, outputs by type, the step cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pipelines_support as support
import pytest

import loopml as lm
from loopml.pipelines import PipelineFailed, get_pipeline_run, list_pipeline_runs, run_pipeline
from loopml.pipelines._records import PipelineRun
from loopml.tracking import get_client

STEPS = ["load", "features", "split", "fit", "evaluate"]


def _counts(marks: Path) -> dict[str, int]:
    return {name: support.runs_of(marks, name) for name in STEPS}


def test_a_run_is_a_parent_run_with_a_child_run_per_step(sdk: str, marks: Path) -> None:
    result = support.training.run(rows=40, alpha=0.1, marks=str(marks), executor="local")
    assert result.status == "FINISHED" and list(result.steps) == STEPS
    parent = lm.get_run(result.run_id)
    assert get_client().get_experiment(parent.info.experiment_id).name == "training"
    assert parent.data.params == {"rows": "40", "alpha": "0.1", "marks": str(marks)}
    assert parent.data.tags["loopml.pipeline.name"] == "training"
    assert json.loads(parent.data.tags["loopml.pipeline.dag"])["fit"] == ["split"]
    for name, found in result.steps.items():
        child = lm.get_run(found.run_id or "")
        assert child.info.status == "FINISHED" and child.info.run_name == name
        assert child.data.tags["mlflow.parentRunId"] == result.run_id
        assert child.data.tags["loopml.step.status"] == "FINISHED"
        assert child.data.tags["loopml.step.cache_hit"] == "false"
        assert not found.cache_hit and found.attempts == 1
    load = lm.get_run(result.steps["load"].run_id or "")
    assert load.data.params == {"rows": "40", "marks": str(marks)}  # the literal arguments
    log = Path(lm.download_artifacts(load.info.run_id, "logs/step.log")).read_text()
    assert "loading 40 rows" in log  # stdout captured in the worker
    assert lm.get_run(result.steps["fit"].run_id or "").data.metrics == {"train_rows": 32.0}
    assert set(lm.get_run(result.steps["evaluate"].run_id or "").data.metrics) == {"mse"}
    formats = {n: {o: v["format"] for o, v in s.outputs.items()} for n, s in result.steps.items()}
    assert formats == {
        "load": {"output": "parquet"},
        "features": {"output": "parquet"},
        "split": {"train": "parquet", "test": "parquet"},
        "fit": {"output": "npy"},
        "evaluate": {"output": "json"},
    }
    assert result.output("evaluate")["mse"] < 0.1
    assert result.output("split", "test").shape == (8, 3)
    assert _counts(marks) == dict.fromkeys(STEPS, 1)


def test_a_rerun_with_nothing_changed_reuses_every_output(sdk: str, marks: Path) -> None:
    first = support.training.run(marks=str(marks), executor="local")
    second = support.training.run(marks=str(marks), executor="local")
    assert _counts(marks) == dict.fromkeys(STEPS, 1)  # nothing ran again
    assert all(s.cache_hit and s.status == "FINISHED" for s in second.steps.values())
    for name, step in second.steps.items():
        assert step.cached_from == first.steps[name].run_id
        assert step.outputs == first.steps[name].outputs  # the same blobs
        run = lm.get_run(step.run_id or "")
        assert run.info.status == "FINISHED" and run.data.tags["loopml.step.cache_hit"] == "true"
        assert run.data.tags["mlflow.parentRunId"] == second.run_id
    # The reused outputs are indexed in the new step runs too: they read without the old run.
    entries = get_client().list_artifact_entries(second.steps["fit"].run_id or "", "outputs")
    assert [e.path for e in entries] == ["outputs/output/data.npy"]
    np.testing.assert_array_equal(second.output("fit"), first.output("fit"))


def test_what_depends_on_a_changed_value_runs_again(sdk: str, marks: Path) -> None:
    support.training.run(alpha=0.01, marks=str(marks), executor="inline")
    changed = support.training.run(alpha=0.5, marks=str(marks), executor="inline")
    assert {n: s.cache_hit for n, s in changed.steps.items()} == {
        "load": True, "features": True, "split": True, "fit": False, "evaluate": False
    }  # fmt: skip
    assert _counts(marks) == {"load": 1, "features": 1, "split": 1, "fit": 2, "evaluate": 2}


def test_no_cache_runs_everything_and_cache_false_steps_always_run(sdk: str, marks: Path) -> None:
    support.training.run(marks=str(marks), executor="inline")
    again = support.training.run(marks=str(marks), executor="inline", cache=False)
    assert not any(s.cache_hit for s in again.steps.values())
    assert _counts(marks) == dict.fromkeys(STEPS, 2)
    for _ in range(2):
        run = support.uncached.run(marks=str(marks), executor="inline")
    assert support.runs_of(marks, "always") == 2 and support.runs_of(marks, "one") == 1
    assert not run.steps["always"].cache_hit and run.steps["one"].cache_hit


def test_outputs_of_a_deleted_run_are_not_reused(sdk: str, marks: Path) -> None:
    first = support.training.run(marks=str(marks), executor="inline")
    get_client().delete_run(first.steps["load"].run_id or "")
    second = support.training.run(marks=str(marks), executor="inline")
    assert not second.steps["load"].cache_hit
    # The same bytes come out again, so everything after it is still reused.
    assert second.steps["load"].outputs == first.steps["load"].outputs
    assert all(s.cache_hit for n, s in second.steps.items() if n != "load")


def test_each_type_is_stored_in_its_safe_format_and_comes_back(sdk: str) -> None:
    result = support.types.run(executor="inline")
    outputs = result.steps["every_type"].outputs
    assert {k: v["format"] for k, v in outputs.items()} == {
        "frame": "parquet",
        "series": "parquet-series",
        "array": "npy",
        "scalar": "npy-scalar",
        "data": "json",
        "raw": "bytes",
    }
    frame = result.output("every_type", "frame")
    pd.testing.assert_frame_equal(
        frame, pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]}, index=[10, 20, 30])
    )
    pd.testing.assert_series_equal(
        result.output("every_type", "series"), pd.Series([0.5, 1.5], name="weights")
    )
    array = result.output("every_type", "array")
    assert array.dtype == np.int32 and array.shape == (2, 3)
    scalar = result.output("every_type", "scalar")
    assert isinstance(scalar, np.float32) and scalar == 2.5
    assert result.output("every_type", "data") == {"nested": [1, 2.5, None, "s"], "ok": True}
    assert result.output("every_type", "raw") == b"\x00\x01bytes"
    assert result.steps["model"].outputs["output"]["format"] == "model"
    assert result.output("predict") == pytest.approx([7.0])  # the model reached the next step
    assert result.output("model").predict([[4.0]]) == pytest.approx([9.0])


def test_an_unstorable_output_fails_its_step_once_with_a_clear_error(sdk: str) -> None:
    with pytest.raises(PipelineFailed) as caught:
        support.unstorable.run(executor="inline")
    opaque = caught.value.run.steps["opaque"]
    assert opaque.status == "FAILED" and opaque.attempts == 1
    assert "Step 'opaque', output 'output' is a pipelines_support.Opaque" in (opaque.error or "")
    assert "allow_pickle=True" in (opaque.error or "")
    assert caught.value.run.steps["consume"].status == "SKIPPED"
    assert "Step 'opaque' failed" in caught.value.message


def test_pickle_is_used_only_when_the_step_allows_it(sdk: str) -> None:
    result = support.pickling.run(executor="inline")
    assert result.output("unwrap") == 4  # the next step read the pickle
    assert result.steps["pickled"].outputs["output"]["format"] == "pickle"
    with pytest.raises(lm.LoopmlError, match="allow_pickle=True if you trust"):
        result.output("pickled")
    assert result.output("pickled", allow_pickle=True).value == 4


def test_inside_an_active_run_the_pipeline_run_is_its_child(sdk: str, marks: Path) -> None:
    with lm.start_run(experiment="outer") as outer:
        result = run_pipeline(support.training, {"marks": str(marks)}, executor="inline")
    parent = lm.get_run(result.run_id)
    assert parent.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert parent.info.experiment_id == outer.info.experiment_id


def test_runs_are_listed_and_read_back(sdk: str, marks: Path) -> None:
    first = support.training.run(marks=str(marks), executor="inline")
    second = support.uncached.run(marks=str(marks), executor="inline")
    listed = list_pipeline_runs()
    assert [r.run_id for r in listed] == [second.run_id, first.run_id]
    assert [r.run_id for r in list_pipeline_runs("training")] == [first.run_id]
    again = get_pipeline_run(first.run_id)
    assert isinstance(again, PipelineRun) and again == first
    with pytest.raises(lm.LoopmlError, match="not a pipeline run"):
        get_pipeline_run(lm.get_run(first.steps["load"].run_id or "").info.run_id)


def test_pipelines_run_on_postgresql_too(sdk_any_store: str, marks: Path) -> None:
    support.training.run(marks=str(marks), executor="inline")
    second = support.training.run(marks=str(marks), executor="inline")
    assert all(s.cache_hit for s in second.steps.values())
    assert second.output("evaluate")["mse"] < 0.01


def test_run_pipeline_takes_a_target_and_refuses_bad_input(sdk: str, marks: Path) -> None:
    result = run_pipeline("pipelines_support:uncached", {"marks": str(marks)}, executor="inline")
    assert lm.get_run(result.run_id).data.tags["loopml.pipeline.target"] == (
        "pipelines_support:uncached"
    )
    with pytest.raises(lm.LoopmlError, match="Unknown executor 'spark'"):
        support.training.run(executor="spark")
    with pytest.raises(lm.LoopmlError, match="max_workers=1"):
        support.training.run(executor="inline", max_workers=3)
    with pytest.raises(lm.LoopmlError, match="for the ray executor"):
        support.training.run(ray_address="ray://somewhere:10001")
    with pytest.raises(lm.LoopmlError, match=r"no parameter|unexpected keyword"):
        run_pipeline(support.training, {"epochs": 3})
    with pytest.raises(lm.LoopmlError, match="Invalid target"):
        run_pipeline("not a target")
    with pytest.raises(lm.LoopmlError, match="not a pipeline"):
        run_pipeline("pipelines_support:load")
    assert list_pipeline_runs() == list_pipeline_runs()[:1]  # the refused calls made no run
