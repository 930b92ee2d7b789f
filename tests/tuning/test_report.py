"""Studies read back from the store: listing, details, plots saved as artifacts."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from loopml.core.errors import NotFound
from loopml.tracking import Client
from loopml.tuning import list_studies, load_study, study_details, tune


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    depth = trial.suggest_int("depth", 1, 4)
    if trial.number == 1:
        raise ValueError("no convergence")
    return x * x + depth


def test_details_list_every_trial_with_its_run_and_save_plots(
    sqlite_client: Client, tmp_path: Path
) -> None:
    result = tune(
        objective,
        n_trials=12,
        sampler="random",
        seed=0,
        study_name="shown",
        experiment="hpo",
        client=sqlite_client,
    )

    details = study_details(sqlite_client, "shown", plot_folder=tmp_path / "plots")

    assert details.info.name == "shown" and details.info.run_id == result.run_id
    assert details.info.trials == {"COMPLETE": 11, "PRUNED": 0, "FAIL": 1}
    assert [row.number for row in details.trials] == list(range(12))
    assert [row.run_id for row in details.trials] == [result.trial_run_ids[n] for n in range(12)]
    assert details.trials[1].fail_reason == "ValueError: no convergence"
    assert details.best is not None and details.best.number == result.best_trial.number
    assert details.best.params == result.best_params
    assert set(details.importances) == {"x", "depth"}
    assert details.plots == ["plots/optimization_history.png", "plots/param_importances.png"]
    artifacts = {f.path for f in sqlite_client.list_artifacts(result.run_id, "plots")}
    assert artifacts == set(details.plots)
    for name in ("optimization_history.png", "param_importances.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_load_study_gives_an_optuna_study(sqlite_client: Client) -> None:
    result = tune(
        objective, n_trials=5, sampler="random", seed=0, study_name="loaded", client=sqlite_client
    )
    info, study, run_ids = load_study(sqlite_client, "loaded", "0")
    assert info.directions == ("minimize",)
    assert study.best_params == result.best_params
    assert run_ids == result.trial_run_ids


def test_list_studies_newest_first_and_by_experiment(sqlite_client: Client) -> None:
    tune(objective, n_trials=2, study_name="first", client=sqlite_client)
    tune(objective, n_trials=3, study_name="second", experiment="other", client=sqlite_client)
    assert [s.name for s in list_studies(sqlite_client)] == ["second", "first"]
    assert [s.name for s in list_studies(sqlite_client, "0")] == ["first"]
    second = list_studies(sqlite_client)[0]
    assert second.status == "FINISHED" and second.trials["COMPLETE"] == 2


def test_an_unknown_study_is_not_found(sqlite_client: Client) -> None:
    with pytest.raises(NotFound, match=r"No study named 'nope'.*loopml tune list"):
        study_details(sqlite_client, "nope")


def test_a_study_without_complete_trials_still_shows(sqlite_client: Client) -> None:
    def failing(trial: optuna.Trial) -> float:
        raise RuntimeError("broken")

    tune(failing, n_trials=2, study_name="broken", client=sqlite_client)
    details = study_details(sqlite_client, "broken")
    assert details.best is None and details.importances == {}
    assert details.plots == ["plots/optimization_history.png"]
