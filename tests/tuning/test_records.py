"""A finished trial as a run and back: exact for every state and any size."""

from __future__ import annotations

import datetime
import json
import math

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from loopml.core.errors import CorruptObject
from loopml.store import Run, RunData, RunInfo
from loopml.tuning._records import (
    TAG_RECORD,
    param_key,
    run_to_trial,
    trial_to_run,
)


def frozen(**overrides: object) -> FrozenTrial:
    start = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000)
    fields: dict[str, object] = {
        "number": 7,
        "state": TrialState.COMPLETE,
        "value": None,
        "values": [1.5],
        "datetime_start": start,
        "datetime_complete": start + datetime.timedelta(seconds=2),
        "params": {"lr": 0.01, "depth": 4, "kind": None},
        "distributions": {
            "lr": FloatDistribution(1e-4, 1.0, log=True),
            "depth": IntDistribution(1, 8, step=1),
            "kind": CategoricalDistribution([None, "a", 3]),
        },
        "user_attrs": {},
        "system_attrs": {},
        "intermediate_values": {0: 3.0, 1: 2.0},
        "trial_id": 0,
    }
    fields.update(overrides)
    return FrozenTrial(**fields)  # type: ignore[arg-type]


def as_run(trial: FrozenTrial) -> Run:
    new = trial_to_run(trial, parent_run_id="p" * 32, value_names=["value"])
    tags = {t.key: t.value for t in new.tags}
    info = RunInfo(
        "r" * 32, new.run_name, "0", new.status, new.start_time, new.end_time, "active", "x"
    )
    return Run(info, RunData(tags=tags))


def same(a: FrozenTrial, b: FrozenTrial) -> None:
    assert (a.number, a.state, a.values) == (b.number, b.state, b.values)
    assert a.params == b.params and a.distributions == b.distributions
    assert a.intermediate_values == b.intermediate_values
    assert a.user_attrs == b.user_attrs and a.system_attrs == b.system_attrs
    assert a.datetime_start == b.datetime_start
    assert a.datetime_complete == b.datetime_complete


def test_a_complete_trial_round_trips() -> None:
    trial = frozen()
    new = trial_to_run(trial, parent_run_id="p" * 32, value_names=["value"])
    assert new.run_name == "trial-7" and new.status == "FINISHED"
    assert {p.key: p.value for p in new.params} == {"lr": "0.01", "depth": "4", "kind": "None"}
    assert [(m.key, m.step, m.value) for m in new.metrics] == [
        ("value", 0, 1.5),
        ("intermediate_value", 0, 3.0),
        ("intermediate_value", 1, 2.0),
    ]
    assert (new.start_time, new.end_time) == (new.start_time, new.start_time + 2000)
    same(run_to_trial(as_run(trial)), trial)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "values", "status"),
    [(TrialState.PRUNED, [2.0], "FINISHED"), (TrialState.FAIL, None, "FAILED")],
)
def test_pruned_and_failed_trials(
    state: TrialState, values: list[float] | None, status: str
) -> None:
    trial = frozen(state=state, values=values)
    new = trial_to_run(
        trial,
        parent_run_id="p" * 32,
        value_names=["value"],
        fail_reason="ValueError: x" if values is None else None,
    )
    assert new.status == status
    same(run_to_trial(as_run(trial)), trial)  # type: ignore[arg-type]


def test_non_finite_values_and_attributes_survive() -> None:
    trial = frozen(
        values=[math.inf],
        intermediate_values={0: math.nan, 3: -math.inf},
        user_attrs={"n": np.float32(0.5), "tags": ["a", "b"]},
        system_attrs={"constraints": [0.1, -1.0]},
    )
    back = run_to_trial(as_run(trial))
    assert back is not None
    assert back.values == [math.inf]
    assert math.isnan(back.intermediate_values[0]) and back.intermediate_values[3] == -math.inf
    assert back.user_attrs == {"n": 0.5, "tags": ["a", "b"]}
    assert back.system_attrs == {"constraints": [0.1, -1.0]}


def test_a_record_longer_than_a_tag_is_split_and_joined() -> None:
    trial = frozen(intermediate_values={step: step / 3 for step in range(2000)})
    run = as_run(trial)
    parts = [k for k in run.data.tags if k.startswith(TAG_RECORD)]
    assert len(parts) > 2 and all(len(run.data.tags[k]) <= 8000 for k in parts)
    same(run_to_trial(run), trial)  # type: ignore[arg-type]


def test_a_study_restored_from_records_samples_like_the_original() -> None:
    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_float("x", -3, 3) ** 2 + trial.suggest_int("n", 0, 4)

    original = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    original.optimize(objective, n_trials=15)
    restored = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    restored.add_trials(run_to_trial(as_run(t)) for t in original.trials)  # type: ignore[misc]
    for a, b in zip(original.trials, restored.trials, strict=True):
        same(a, b)
    assert restored.best_params == original.best_params


def test_a_run_without_record_is_not_a_trial_and_a_broken_one_is_named() -> None:
    info = RunInfo("r" * 32, "x", "0", "FINISHED", 0, 0, "active", "x")
    assert run_to_trial(Run(info, RunData(tags={}))) is None
    broken = Run(info, RunData(tags={TAG_RECORD: json.dumps({"number": 1})}))
    with pytest.raises(CorruptObject, match="unreadable trial record"):
        run_to_trial(broken)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("lr", "lr"),
        ("layers/0/units", "layers/0/units"),
        ("w[0]", "w_0_"),
        ("/abs", "_abs"),
        ("a//b", "a__b"),
        ("..", "__"),
        ("é", "é"),
    ],
)
def test_param_keys_are_valid_tracking_keys(name: str, key: str) -> None:
    assert param_key(name) == key
