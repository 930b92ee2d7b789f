"""A study tracked through a loopml server: the remote store writes the trials run by run."""

from __future__ import annotations

from pathlib import Path

import optuna

from loopml.core.settings import Settings
from loopml.tracking import Client
from loopml.tuning import study_details, tune
from server.live_server import live_server


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    trial.report(x * x + 1, 0)
    if trial.number == 1:
        raise ValueError("nope")
    return x * x


def test_a_study_through_a_server_records_and_resumes(tmp_path: Path) -> None:
    with live_server(tmp_path / "server") as server:
        client = Client(server.url, settings=Settings(home=tmp_path / "home"))
        try:
            first = tune(
                objective, n_trials=4, sampler="random", seed=0, study_name="remote", client=client
            )
            resumed = tune(
                objective, n_trials=2, sampler="random", seed=0, study_name="remote", client=client
            )
            details = study_details(client, "remote", plots=False)
        finally:
            client.close()

    assert resumed.run_id == first.run_id
    assert [t.number for t in resumed.study.trials] == list(range(6))
    assert [row.state for row in details.trials] == ["COMPLETE", "FAIL"] + ["COMPLETE"] * 4
    assert details.trials[1].fail_reason == "ValueError: nope"
    assert details.info.status == "FINISHED"
    assert details.best is not None and details.best.number == resumed.best_trial.number
