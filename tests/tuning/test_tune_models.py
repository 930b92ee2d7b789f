"""The best trial's model: logged into its run and registered, in one call."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from sklearn.linear_model import Ridge

from loopml.models import load_model
from loopml.registry import Registry
from loopml.tracking import Client
from loopml.tuning import tune

X = np.linspace(0, 1, 40).reshape(-1, 1)
Y = 3 * X[:, 0] + 0.5


def ridge(trial: optuna.Trial) -> tuple[float, Ridge]:
    alpha = trial.suggest_float("alpha", 1e-3, 10, log=True)
    model = Ridge(alpha=alpha).fit(X, Y)
    return float(np.mean((model.predict(X) - Y) ** 2)), model


@pytest.mark.parametrize("parallelism", [1, 2])
def test_best_model_is_logged_into_the_best_trial_and_registered(
    sqlite_client: Client, parallelism: int
) -> None:
    result = tune(
        ridge,
        n_trials=6,
        sampler="random",
        seed=0,
        parallelism=parallelism,
        log_best_model=True,
        register_as="ridge",
        client=sqlite_client,
    )

    info = result.model_info
    assert info is not None
    assert info.run_id == result.best_trial_run_id
    assert info.model_uri == f"runs:/{result.best_trial_run_id}/model"
    assert info.registered_model_version == 1
    version = Registry(sqlite_client).get_model_version("ridge", 1)
    assert version.run_id == result.best_trial_run_id
    local = sqlite_client.download_artifacts(result.best_trial_run_id, "model")
    loaded = load_model(local)
    expected = Ridge(alpha=result.best_params["alpha"]).fit(X, Y).predict(X[:3])
    assert np.allclose(loaded.predict(X[:3]), expected)
    others = [n for n in result.trial_run_ids if n != result.best_trial.number]
    assert all(
        not sqlite_client.list_artifacts(result.trial_run_ids[n]) for n in others
    )  # only the best trial's model is kept and logged


def test_an_objective_that_forgets_the_model_fails_its_trials(sqlite_client: Client) -> None:
    result = tune(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2, log_best_model="m", client=sqlite_client
    )
    reason = sqlite_client.get_run(result.trial_run_ids[0]).data.tags["loopml.tuning.fail_reason"]
    assert "must return (value, model)" in reason
    assert result.model_info is None


def test_result_log_model_after_the_study(sqlite_client: Client) -> None:
    result = tune(lambda t: ridge(t)[0], n_trials=3, sampler="random", seed=1, client=sqlite_client)
    model = Ridge(alpha=result.best_params["alpha"]).fit(X, Y)
    info = result.log_model(model, "refit", register_as="ridge-refit")
    assert info.run_id == result.best_trial_run_id
    assert info.registered_model_version == 1
    assert [f.path for f in sqlite_client.list_artifacts(info.run_id)] == ["refit"]


def test_a_resumed_study_whose_best_trial_is_older_logs_nothing_new(
    sqlite_client: Client,
) -> None:
    first = tune(
        ridge,
        n_trials=4,
        sampler="random",
        seed=0,
        log_best_model=True,
        study_name="keep",
        client=sqlite_client,
    )

    def worse(trial: optuna.Trial) -> tuple[float, Ridge]:
        trial.suggest_float("alpha", 1e-3, 10, log=True)
        return 1e9, Ridge()

    again = tune(worse, n_trials=2, log_best_model=True, study_name="keep", client=sqlite_client)
    assert again.best_trial.number == first.best_trial.number
    assert again.model_info is None  # the earlier session logged it already
    assert [f.path for f in sqlite_client.list_artifacts(again.best_trial_run_id)] == ["model"]
