"""Parallel trials on the local process pool and on a local Ray instance.

Objectives here are module-level functions: workers import this module
(the executor sends them the test's ``sys.path``).
"""

from __future__ import annotations

import os
import threading
import time

import optuna
import pytest

from loopml.core.errors import InvalidArgument
from loopml.store import Run
from loopml.tracking import Client
from loopml.tuning import tune


def reporting(trial: optuna.Trial) -> float:
    """Reports x + 10 - step; the threshold pruner prunes every x above 4 at step 0."""
    x = trial.suggest_float("x", 0, 10)
    trial.set_user_attr("pid", os.getpid())
    for step in range(3):
        trial.report(x + 10 - step, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    if trial.number == 1:
        raise ValueError("diverged")
    return x


THRESHOLD = optuna.pruners.ThresholdPruner(upper=14.0)


def states(result_runs: list[Run]) -> dict[int, str]:
    return {
        int(r.info.run_name.split("-")[1]): r.data.tags["loopml.tuning.state"] for r in result_runs
    }


def test_local_pool_runs_trials_in_workers_with_pruning_and_failures(
    sqlite_client: Client,
) -> None:
    result = tune(
        reporting,
        n_trials=10,
        sampler="random",
        seed=2,
        pruner=THRESHOLD,
        parallelism=2,
        study_name="par",
        client=sqlite_client,
    )

    trials = result.study.trials
    assert len(trials) == 10
    assert all(t.user_attrs["pid"] != os.getpid() for t in trials)
    runs = list(sqlite_client.search_runs(["0"], f"tags.mlflow.parentRunId = '{result.run_id}'"))
    assert len(runs) == 10
    recorded = states(runs)
    for trial in trials:
        if trial.number == 1 and trial.params["x"] <= 4:
            assert trial.state.name == "FAIL"
        elif trial.params["x"] > 4:
            assert trial.state.name == "PRUNED"  # decided in this process, from the reports
            assert trial.intermediate_values == {0: pytest.approx(trial.params["x"] + 10)}
        else:
            assert trial.state.name == "COMPLETE"
            assert len(trial.intermediate_values) == 3
        assert recorded[trial.number] == trial.state.name
    by_number = {int(r.info.run_name.split("-")[1]): r for r in runs}
    history = sqlite_client.get_metric_history(
        by_number[trials[0].number].info.run_id, "intermediate_value"
    )
    assert [m.value for m in history] == list(trials[0].intermediate_values.values())
    assert sqlite_client.get_run(result.run_id).info.status == "FINISHED"


def sleepy(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", 0, 1)
    if trial.number == 0:
        time.sleep(60)
    return x


def test_a_trial_past_its_timeout_fails_and_the_study_goes_on(sqlite_client: Client) -> None:
    result = tune(
        sleepy,
        n_trials=4,
        parallelism=2,
        trial_timeout=3,
        sampler="random",
        client=sqlite_client,
    )
    first = result.study.trials[0]
    assert first.state.name == "FAIL"
    run = sqlite_client.get_run(result.trial_run_ids[0])
    assert "StepTimeout" in run.data.tags["loopml.tuning.fail_reason"]
    assert "trial_timeout=3" in run.data.tags["loopml.tuning.fail_reason"]
    assert [t.state.name for t in result.study.trials[1:]] == ["COMPLETE"] * 3


def strict(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", 0, 1)
    if trial.number == 2:
        raise KeyError("bug")
    time.sleep(0.2 if trial.number != 3 else 30)
    return x


def test_an_exception_outside_catch_stops_the_study_and_records_running_trials(
    sqlite_client: Client,
) -> None:
    with pytest.raises(KeyError, match="bug"):
        tune(
            strict,
            n_trials=8,
            parallelism=2,
            catch=(),
            study_name="stop",
            sampler="random",
            client=sqlite_client,
        )

    study_run = sqlite_client.search_runs(["0"], "tags.loopml.tuning.study = 'stop'")[0]
    assert study_run.info.status == "FAILED"
    runs = sqlite_client.search_runs(["0"], f"tags.mlflow.parentRunId = '{study_run.info.run_id}'")
    by_name = {r.info.run_name: r for r in runs}
    assert by_name["trial-2"].data.tags["loopml.tuning.fail_reason"] == "KeyError: 'bug'"
    assert by_name["trial-2"].info.status == "FAILED"
    cut_short = [r for r in runs if r.info.status == "KILLED"]
    assert cut_short  # trial 3 (30 s) was running: killed and recorded
    for run in cut_short:
        assert (
            "Stopped: the study ended with KeyError" in run.data.tags["loopml.tuning.fail_reason"]
        )


def test_an_objective_workers_cannot_load_is_refused_first(sqlite_client: Client) -> None:
    lock = threading.Lock()

    def holds_a_lock(trial: optuna.Trial) -> float:
        with lock:
            return trial.suggest_float("x", 0, 1)

    with pytest.raises(InvalidArgument, match="cannot be sent to worker processes"):
        tune(holds_a_lock, n_trials=2, parallelism=2, client=sqlite_client)
    assert list(sqlite_client.search_runs(["0"])) == []


@pytest.mark.xdist_group("ray")
def test_ray_runs_the_same_study(ray_instance: None, sqlite_client: Client) -> None:
    result = tune(
        reporting,
        n_trials=8,
        sampler="random",
        seed=2,
        pruner=THRESHOLD,
        parallelism=2,
        executor="ray",
        client=sqlite_client,
    )
    assert len(result.study.trials) == 8
    assert all(t.user_attrs["pid"] != os.getpid() for t in result.study.trials)
    for trial in result.study.trials:
        expected = (
            "PRUNED" if trial.params["x"] > 4 else ("FAIL" if trial.number == 1 else "COMPLETE")
        )
        assert trial.state.name == expected
    assert sorted(result.trial_run_ids) == list(range(8))


def stops_at_two(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", 0, 1)
    if trial.number == 2:
        trial.study.stop()
    time.sleep(0.1)
    return x


def test_study_stop_from_a_worker(sqlite_client: Client) -> None:
    result = tune(stops_at_two, n_trials=40, parallelism=2, client=sqlite_client)
    # Trials already started finish; no new one starts after the stop.
    assert 3 <= len(result.study.trials) <= 5
    assert all(t.state.name == "COMPLETE" for t in result.study.trials)
