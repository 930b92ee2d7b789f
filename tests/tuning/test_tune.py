"""``tune()`` in this process: trials as runs, states, failures, pruning, bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import optuna
import pytest

import loopml as lm
from loopml.core.errors import InvalidArgument, InvalidState
from loopml.store import Run
from loopml.tracking import Client
from loopml.tuning import TuneResult, tune


def trial_runs(client: Client, result: TuneResult) -> dict[int, Run]:
    """The study's child runs by trial number."""
    runs = client.search_runs(
        [result.experiment_id], f"tags.mlflow.parentRunId = '{result.run_id}'"
    )
    return {int(r.info.run_name.split("-")[1]): r for r in runs}


def quadratic(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    return (x - 2) ** 2


def test_each_trial_is_a_child_run_with_params_value_and_state(client: Client) -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        for step in range(3):
            trial.report(x * x + 3 - step, step)
        return x * x + (kind == "a")

    result = tune(objective, n_trials=6, sampler="random", seed=3, study_name="s", client=client)

    study_run = client.get_run(result.run_id)
    assert study_run.info.status == "FINISHED"
    assert study_run.data.tags["loopml.tuning.study"] == "s"
    assert study_run.data.tags["loopml.tuning.role"] == "study"
    assert study_run.data.tags["loopml.tuning.sampler"] == "RandomSampler"
    assert study_run.data.metrics["trials_complete"] == 6
    assert study_run.data.metrics["best_value"] == pytest.approx(result.best_value)
    assert study_run.data.tags["loopml.tuning.best_run_id"] == result.best_trial_run_id
    runs = trial_runs(client, result)
    assert sorted(runs) == list(range(6))
    for trial in result.study.trials:
        run = runs[trial.number]
        assert run.info.run_id == result.trial_run_ids[trial.number]
        assert run.info.status == "FINISHED"
        assert run.info.parent_run_id == result.run_id
        assert run.data.tags["loopml.tuning.state"] == "COMPLETE"
        assert run.data.params == {"x": str(trial.params["x"]), "kind": trial.params["kind"]}
        assert run.data.metrics["value"] == pytest.approx(trial.value)
        history = client.get_metric_history(run.info.run_id, "intermediate_value")
        assert [(m.step, m.value) for m in history] == sorted(trial.intermediate_values.items())
    assert result.best_params == result.study.best_params
    assert result.best_trial_run_id == result.trial_run_ids[result.study.best_trial.number]
    frame = result.trials_dataframe()
    assert list(frame["run_id"]) == [result.trial_run_ids[n] for n in frame["number"]]


def test_failures_are_recorded_and_the_study_goes_on(sqlite_client: Client) -> None:
    def objective(trial: optuna.Trial) -> Any:
        x = trial.suggest_float("x", 0, 1)
        returns: dict[int, Any] = {1: math.nan, 2: "abc", 3: None}
        if trial.number == 0:
            raise ValueError("bad batch size")
        return returns.get(trial.number, x)

    result = tune(objective, n_trials=5, sampler="random", client=sqlite_client)

    states = [t.state.name for t in result.study.trials]
    assert states == ["FAIL", "FAIL", "FAIL", "FAIL", "COMPLETE"]
    runs = trial_runs(sqlite_client, result)
    assert runs[0].info.status == "FAILED"
    assert runs[0].data.tags["loopml.tuning.state"] == "FAIL"
    assert runs[0].data.tags["loopml.tuning.fail_reason"] == "ValueError: bad batch size"
    assert "raise ValueError" in runs[0].data.tags["loopml.tuning.traceback"]
    assert "NaN" in runs[1].data.tags["loopml.tuning.fail_reason"]
    assert "'abc', which is not a number" in runs[2].data.tags["loopml.tuning.fail_reason"]
    assert "None, which is not a number" in runs[3].data.tags["loopml.tuning.fail_reason"]
    assert "value" not in runs[0].data.metrics
    assert sqlite_client.get_run(result.run_id).info.status == "FINISHED"
    assert sqlite_client.get_run(result.run_id).data.metrics["trials_fail"] == 4


def test_an_exception_outside_catch_fails_the_study_and_keeps_the_trials(
    sqlite_client: Client,
) -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 3:
            raise KeyError("missing column")
        return x

    with pytest.raises(KeyError, match="missing column"):
        tune(objective, n_trials=10, study_name="strict", catch=(), client=sqlite_client)

    study_run = sqlite_client.search_runs(["0"], "tags.loopml.tuning.study = 'strict'")[0]
    assert study_run.info.status == "FAILED"
    assert "KeyError: 'missing column'" in study_run.data.tags["loopml.tuning.error"]
    children = sqlite_client.search_runs(
        ["0"], f"tags.mlflow.parentRunId = '{study_run.info.run_id}'"
    )
    states = {r.info.run_name: r.data.tags["loopml.tuning.state"] for r in children}
    assert states == {
        "trial-0": "COMPLETE",
        "trial-1": "COMPLETE",
        "trial-2": "COMPLETE",
        "trial-3": "FAIL",
    }


def test_ctrl_c_kills_the_study_keeps_finished_trials_and_resume_continues(
    client: Client,
) -> None:
    def interrupted(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        if trial.number == 4:
            raise KeyboardInterrupt
        return x * x

    with pytest.raises(KeyboardInterrupt):
        tune(interrupted, n_trials=10, sampler="tpe", seed=1, study_name="ctrl-c", client=client)

    study_run = client.search_runs(["0"], "tags.loopml.tuning.study = 'ctrl-c'")[0]
    assert study_run.info.status == "KILLED"
    children = client.search_runs(["0"], f"tags.mlflow.parentRunId = '{study_run.info.run_id}'")
    by_name = {r.info.run_name: r for r in children}
    assert sorted(by_name) == [f"trial-{i}" for i in range(5)]
    assert by_name["trial-4"].info.status == "KILLED"
    assert by_name["trial-4"].data.tags["loopml.tuning.state"] == "FAIL"
    assert "interrupted" in by_name["trial-4"].data.tags["loopml.tuning.fail_reason"]

    resumed = tune(quadratic, n_trials=3, sampler="tpe", seed=1, study_name="ctrl-c", client=client)

    assert resumed.run_id == study_run.info.run_id
    assert [t.number for t in resumed.study.trials] == list(range(8))
    assert [t.state.name for t in resumed.study.trials[:5]] == ["COMPLETE"] * 4 + ["FAIL"]
    for before, after in zip(
        children_trials(client, study_run), resumed.study.trials[:4], strict=False
    ):
        assert before == after.params
    assert client.get_run(resumed.run_id).info.status == "FINISHED"
    assert client.get_run(resumed.run_id).data.metrics["trials_complete"] == 7
    assert sorted(resumed.trial_run_ids) == list(range(8))


def children_trials(client: Client, study_run: Run) -> list[dict[str, Any]]:
    children = client.search_runs(["0"], f"tags.mlflow.parentRunId = '{study_run.info.run_id}'")
    records = sorted(
        (json.loads(r.data.tags["loopml.tuning.record"]) for r in children),
        key=lambda rec: rec["number"],
    )
    return [rec["params"] for rec in records if rec["state"] == "COMPLETE"]


def test_a_resumed_seeded_study_does_not_repeat_its_draws(sqlite_client: Client) -> None:
    first = tune(
        quadratic, n_trials=5, sampler="random", seed=7, study_name="r", client=sqlite_client
    )
    again = tune(
        quadratic, n_trials=5, sampler="random", seed=7, study_name="r", client=sqlite_client
    )
    xs = [t.params["x"] for t in again.study.trials]
    assert xs[:5] == [t.params["x"] for t in first.study.trials]
    assert len(set(xs)) == 10


def test_resume_refuses_other_directions(sqlite_client: Client) -> None:
    tune(quadratic, n_trials=1, study_name="d", client=sqlite_client)
    with pytest.raises(InvalidArgument, match="created with directions 'minimize'"):
        tune(quadratic, n_trials=1, study_name="d", direction="maximize", client=sqlite_client)


def test_grid_search_resumes_where_it_stopped_and_ends_with_its_grid(
    sqlite_client: Client,
) -> None:
    space: dict[str, list[Any]] = {"a": [1, 2, 3], "b": ["x", "y"]}

    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_int("a", 1, 3) + len(trial.suggest_categorical("b", ["x", "y"]))

    first = tune(
        objective,
        n_trials=4,
        sampler="grid",
        search_space=space,
        study_name="g",
        client=sqlite_client,
    )
    second = tune(
        objective,
        n_trials=10,
        sampler="grid",
        search_space=space,
        study_name="g",
        client=sqlite_client,
    )

    assert len(first.study.trials) == 4
    combos = [(t.params["a"], t.params["b"]) for t in second.study.trials]
    assert len(combos) == 6  # the grid is exhausted: the study stops, as Optuna's does
    assert sorted(combos) == [(a, b) for a in (1, 2, 3) for b in ("x", "y")]


def test_cmaes_state_survives_a_resume(sqlite_client: Client) -> None:
    pytest.importorskip("cmaes")

    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_float("x", -5, 5) ** 2 + trial.suggest_float("y", -5, 5) ** 2

    tune(objective, n_trials=8, sampler="cmaes", seed=0, study_name="c", client=sqlite_client)
    resumed = tune(
        objective, n_trials=4, sampler="cmaes", seed=0, study_name="c", client=sqlite_client
    )
    first_eight = resumed.study.trials[:8]
    assert all(any(k.startswith("cma:") for k in t.system_attrs) for t in first_eight[1:])
    assert len(resumed.study.trials) == 12


def test_median_pruner_prunes_with_reported_values(sqlite_client: Client) -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 10)
        for step in range(5):
            trial.report(x + 5 - step, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return x

    result = tune(
        objective, n_trials=30, sampler="random", seed=0, pruner="median", client=sqlite_client
    )

    pruned = [t for t in result.study.trials if t.state.name == "PRUNED"]
    assert pruned
    runs = trial_runs(sqlite_client, result)
    for trial in pruned:
        run = runs[trial.number]
        assert run.info.status == "FINISHED"
        assert run.data.tags["loopml.tuning.state"] == "PRUNED"
        # Optuna gives a pruned trial its last intermediate value.
        assert run.data.metrics["value"] == pytest.approx(trial.value)


def test_multi_objective_values_and_a_wrong_count(sqlite_client: Client) -> None:
    def objective(trial: optuna.Trial) -> Any:
        x = trial.suggest_float("x", 0, 1)
        return (x, 1 - x) if trial.number else (x,)

    result = tune(objective, n_trials=4, directions=["minimize", "minimize"], client=sqlite_client)

    runs = trial_runs(sqlite_client, result)
    assert "returned 1 values; the study has 2" in runs[0].data.tags["loopml.tuning.fail_reason"]
    trial = result.study.trials[1]
    assert runs[1].data.metrics == {"value_0": trial.values[0], "value_1": trial.values[1]}
    assert len(result.best_trials) >= 1
    with pytest.raises(InvalidState, match="best_trials"):
        _ = result.best_params


def test_no_complete_trial_has_no_best(sqlite_client: Client) -> None:
    def objective(trial: optuna.Trial) -> float:
        raise RuntimeError("always")

    result = tune(objective, n_trials=2, client=sqlite_client)
    with pytest.raises(InvalidState, match=r"No trial of study .* completed \(2 failed"):
        _ = result.best_value


def test_study_stop_from_the_objective(sqlite_client: Client) -> None:
    def objective(trial: optuna.Trial) -> float:
        if trial.number == 2:
            trial.study.stop()
        return trial.suggest_float("x", 0, 1)

    result = tune(objective, n_trials=50, client=sqlite_client)
    assert len(result.study.trials) == 3


def test_timeout_alone_bounds_the_study(sqlite_client: Client) -> None:
    result = tune(quadratic, timeout=0.3, sampler="random", client=sqlite_client)
    assert len(result.study.trials) >= 1
    assert sqlite_client.get_run(result.run_id).info.status == "FINISHED"


def test_odd_param_names_are_kept_exactly_in_the_record(sqlite_client: Client) -> None:
    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_float("w[0]", 0, 1) + trial.suggest_float("../up", 0, 1)

    result = tune(objective, n_trials=2, study_name="odd", client=sqlite_client)
    run = trial_runs(sqlite_client, result)[0]
    assert set(run.data.params) == {"w_0_", ".._up"}
    resumed = tune(objective, n_trials=1, study_name="odd", client=sqlite_client)
    assert set(resumed.study.trials[0].params) == {"w[0]", "../up"}


def test_fluent_study_nests_under_the_active_run(sdk: str) -> None:
    lm.set_experiment("tuning")
    with lm.start_run() as outer:
        result = tune(quadratic, n_trials=2)
    study_run = lm.get_run(result.run_id)
    assert study_run.info.parent_run_id == outer.info.run_id
    assert study_run.info.experiment_id == outer.info.experiment_id


def test_experiment_by_name_is_created(sqlite_client: Client) -> None:
    result = tune(quadratic, n_trials=1, experiment="hpo", client=sqlite_client)
    experiment = sqlite_client.get_experiment_by_name("hpo")
    assert experiment is not None and result.experiment_id == experiment.experiment_id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Give n_trials, timeout"),
        ({"n_trials": 0}, "n_trials must be a positive int"),
        ({"n_trials": 1, "timeout": -1}, "timeout must be a positive number"),
        ({"n_trials": 1, "sampler": "bayes"}, "Unknown sampler 'bayes'"),
        ({"n_trials": 1, "pruner": "early"}, "Unknown pruner 'early'"),
        ({"n_trials": 1, "sampler": "grid"}, "sampler='grid' needs search_space"),
        ({"n_trials": 1, "search_space": {"x": [1]}}, "search_space is only used by"),
        ({"n_trials": 1, "direction": "up"}, "Unknown direction 'up'"),
        ({"n_trials": 1, "direction": "minimize", "directions": ["minimize"]}, "not both"),
        ({"n_trials": 1, "parallelism": 0}, "parallelism must be a positive int"),
        ({"n_trials": 1, "executor": "dask"}, "Unknown executor 'dask'"),
        ({"n_trials": 1, "register_as": "m"}, "register_as needs log_best_model"),
        (
            {"n_trials": 1, "log_best_model": True, "directions": ["minimize", "maximize"]},
            "needs a single objective",
        ),
        ({"n_trials": 1, "trial_timeout": 5}, "apply to trials run by an executor"),
        ({"n_trials": 1, "study_name": " "}, "Invalid study name"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    sqlite_client: Client, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        tune(quadratic, client=sqlite_client, **kwargs)
    assert list(sqlite_client.search_runs(["0"])) == []


def test_cmaes_without_its_package_is_refused(
    sqlite_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "cmaes" else real(name, *a)
    )
    with pytest.raises(InvalidArgument, match="needs the cmaes package"):
        tune(quadratic, n_trials=1, sampler="cmaes", client=sqlite_client)


def test_an_objective_must_be_callable(sqlite_client: Client) -> None:
    with pytest.raises(InvalidArgument, match="objective must be a function"):
        tune("quadratic", n_trials=1, client=sqlite_client)  # type: ignore[arg-type]
