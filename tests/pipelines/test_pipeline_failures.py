"""Failures: retries, tracebacks, skipped downstream steps, timeouts, interruption."""

from __future__ import annotations

from pathlib import Path

import pipelines_support as support
import pytest

import loopml as lm
from loopml.pipelines import PipelineFailed


def _text(run_id: str | None, path: str) -> str:
    return Path(lm.download_artifacts(run_id or "", path)).read_text()


def test_a_failing_step_fails_the_run_skips_its_downstream_and_spares_the_rest(
    sdk: str, marks: Path
) -> None:
    with pytest.raises(PipelineFailed) as caught:
        support.branches.run(marks=str(marks), executor="local")
    failed = caught.value
    assert "Step 'explode' failed (explode: ValueError: cannot handle 1)" in failed.message
    result = failed.run
    assert result.status == "FAILED"
    assert {n: s.status for n, s in result.steps.items()} == {
        "one": "FINISHED",
        "explode": "FAILED",
        "after_explode": "SKIPPED",
        "independent": "FINISHED",  # another branch still finishes
    }
    parent = lm.get_run(result.run_id)
    assert parent.info.status == "FAILED"
    assert "Step 'explode' failed" in parent.data.tags["loopml.pipeline.error"]
    explode = lm.get_run(result.steps["explode"].run_id or "")
    assert explode.info.status == "FAILED"
    assert explode.data.tags["loopml.step.error"] == "ValueError: cannot handle 1"
    assert "raise ValueError" in explode.data.tags["loopml.step.traceback"]
    assert "ValueError: cannot handle 1" in _text(explode.info.run_id, "logs/traceback.txt")
    assert "about to fail" in _text(explode.info.run_id, "logs/step.log")
    skipped = lm.get_run(result.steps["after_explode"].run_id or "")
    assert skipped.info.status == "KILLED"  # never ran
    assert skipped.data.tags["loopml.step.status"] == "SKIPPED"
    assert skipped.data.tags["loopml.step.skipped_because"] == "upstream step 'explode' failed"
    assert result.output("one") == 1  # what finished is kept
    assert result.output("independent") == "fine"

    again = support.branches.run(marks=str(marks), executor="inline", raise_on_failure=False)
    assert again.status == "FAILED"
    assert again.steps["one"].cache_hit and not again.steps["explode"].cache_hit
    assert support.runs_of(marks, "explode") == 2  # a failure is never cached


def test_a_step_is_retried_as_declared(sdk: str, marks: Path) -> None:
    result = support.retrying.run(marks=str(marks), failures=1, executor="local")
    flaky = result.steps["flaky"]
    assert (flaky.status, flaky.attempts) == ("FINISHED", 2)
    assert result.output("flaky") == "made it"
    log = _text(flaky.run_id, "logs/step.log")
    assert "RuntimeError: not yet" in log and "--- attempt 2 of 3 ---" in log


def test_a_step_failing_every_attempt_fails_after_the_last(sdk: str, marks: Path) -> None:
    with pytest.raises(PipelineFailed, match="flaky: RuntimeError: not yet"):
        support.retrying.run(marks=str(marks / ""), failures=10, executor="inline")
    assert support.runs_of(marks, "flaky") == 3


def test_a_step_past_its_timeout_is_killed_and_counts_as_a_failure(sdk: str, marks: Path) -> None:
    result = support.hanging.run(marks=str(marks), executor="local", raise_on_failure=False)
    hang = result.steps["hang"]
    assert hang.status == "FAILED" and hang.attempts == 2  # timeout=1, retries=1
    assert support.runs_of(marks, "hang") == 2
    assert "StepTimeout" in (hang.error or "") and "timeout of 1 s" in (hang.error or "")
    assert lm.get_run(hang.run_id or "").info.status == "FAILED"
    assert "hanging" in _text(hang.run_id, "logs/step.log")  # what it printed before the kill
    assert result.steps["after_explode"].status == "SKIPPED"
    assert result.steps["independent"].status == "FINISHED"
    assert "Step 'hang' failed" in (result.error or "")


def test_an_interruption_ends_every_open_run_killed(sdk: str) -> None:
    with pytest.raises(KeyboardInterrupt):
        support.stopped.run(executor="inline")
    (latest,) = lm.pipelines.list_pipeline_runs()
    assert latest.status == "KILLED"
    run = lm.pipelines.get_pipeline_run(latest.run_id)
    assert run.steps["interrupted"].status == "KILLED"
    assert run.steps["consume"].status == "NOT_RUN"
