"""MLflow 3 logged models: sklearn autolog end to end, the logged-model API, restarts."""

from __future__ import annotations

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from live_server import LiveServer
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from mlflow.tracking import MlflowClient
from mlflow_support import unique, use_mlflow
from sklearn.linear_model import LogisticRegression

import loopml as lm

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def _data() -> tuple[np.ndarray, np.ndarray]:
    features = np.random.default_rng(0).random((40, 3))
    return features, (features[:, 0] > 0.5).astype(int)


def _log_model(model: LogisticRegression, name: str) -> ModelInfo:
    # skops (MLflow's default format) is not installed here; pickle is what autolog uses.
    # Stated requirements spare the client its slow inference subprocess.
    return mlflow.sklearn.log_model(
        model,
        name=name,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        pip_requirements=["scikit-learn"],
    )


def test_sklearn_autolog_end_to_end(
    ml: MlflowClient, lm_client: lm.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client infers a model's pip requirements in a subprocess (seconds, and nothing
    # to do with the server): take its fallback list instead.
    monkeypatch.setattr(
        mlflow.models, "infer_pip_requirements", lambda *_, fallback=None, **__: fallback
    )
    exp_id = mlflow.set_experiment(unique("autolog")).experiment_id
    features, labels = _data()
    mlflow.sklearn.autolog(log_input_examples=False, silent=True)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=50).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    run_id = run.info.run_id

    got = ml.get_run(run_id)
    assert got.data.params["max_iter"] == "50" and got.data.params["solver"] == "lbfgs"
    assert 0.5 < got.data.metrics["training_accuracy_score"] <= 1.0
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    (output,) = got.outputs.model_outputs
    model = ml.get_logged_model(output.model_id)
    assert (model.name, model.source_run_id, model.status) == (
        "model",
        run_id,
        LoggedModelStatus.READY,
    )
    assert (
        model.artifact_location == f"mlflow-artifacts:/{exp_id}/models/{model.model_id}/artifacts"
    )
    assert model.params["max_iter"] == "50"
    assert [r.info.run_id for r in ml.search_runs([exp_id])] == [run_id]  # models are not runs

    for uri in (f"models:/{model.model_id}", f"runs:/{run_id}/model"):
        loaded = mlflow.sklearn.load_model(uri)
        assert list(loaded.predict(features[:5])) == list(labels[:5])

    # In loopml: the run, and the model as a run marked loopml.logged_model holding the files.
    assert lm_client.get_run(run_id).data.params["C"] == "1.0"
    holder = lm_client.get_run(model.model_id.removeprefix("m-"))
    assert holder.data.tags["loopml.logged_model.source_run_id"] == run_id
    assert {"MLmodel", "model.pkl"} <= {
        e.path for e in lm_client.list_artifact_entries(holder.info.run_id)
    }


def test_logged_model_api(ml: MlflowClient, lm_client: lm.Client) -> None:
    exp_id = ml.create_experiment(unique("models"))
    source = ml.create_run(exp_id).info.run_id
    first = ml.create_logged_model(
        exp_id,
        name="first",
        source_run_id=source,
        params={"alpha": "0.1"},
        tags={"team": "a", "drop": "me"},
        model_type="classifier",
    )
    second = ml.create_logged_model(exp_id, name="second")
    assert first.status == LoggedModelStatus.PENDING
    assert (first.model_type, first.params, first.tags["team"]) == (
        "classifier",
        {"alpha": "0.1"},
        "a",
    )

    ml.set_logged_model_tags(first.model_id, {"stage": "prod"})
    ml.delete_logged_model_tag(first.model_id, "drop")
    ml.finalize_logged_model(first.model_id, LoggedModelStatus.READY)
    ml.finalize_logged_model(second.model_id, LoggedModelStatus.FAILED)
    got = ml.get_logged_model(first.model_id)
    assert got.status == LoggedModelStatus.READY
    assert got.tags["stage"] == "prod" and "drop" not in got.tags
    assert ml.get_logged_model(second.model_id).status == LoggedModelStatus.FAILED

    def names(**kwargs: object) -> list[str]:
        return [m.name for m in ml.search_logged_models([exp_id], **kwargs)]  # type: ignore[arg-type]

    assert names() == ["second", "first"]  # newest first
    assert names(order_by=[{"field_name": "name", "ascending": True}]) == ["first", "second"]
    assert names(filter_string="name = 'first'") == ["first"]
    assert names(filter_string=f"source_run_id = '{source}' AND status = 'READY'") == ["first"]
    assert names(filter_string="tags.stage = 'prod' AND params.alpha = '0.1'") == ["first"]
    assert names(filter_string=f"model_id = '{second.model_id}'") == ["second"]
    page = ml.search_logged_models([exp_id], max_results=1)
    assert len(page) == 1 and page.token
    with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE"):
        ml.search_logged_models([exp_id], filter_string="metrics.acc > 1")

    # A model logged without any run, loaded back by id.
    mlflow.set_experiment(experiment_id=exp_id)
    features, labels = _data()
    info = _log_model(LogisticRegression().fit(features, labels), "runless")
    assert ml.get_logged_model(info.model_id).source_run_id in (None, "")
    assert list(mlflow.sklearn.load_model(info.model_uri).predict(features[:3])) == list(labels[:3])

    ml.delete_logged_model(second.model_id)
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        ml.get_logged_model(second.model_id)
    assert names() == ["runless", "first"]
    assert lm_client.get_run(second.model_id.removeprefix("m-")).info.lifecycle_stage == "deleted"


def test_logged_models_survive_a_restart(fresh_server: LiveServer) -> None:
    ml = use_mlflow(fresh_server)
    mlflow.set_experiment(unique("restart"))
    features, labels = _data()
    with mlflow.start_run() as run:
        info = _log_model(LogisticRegression().fit(features, labels), "clf")
    fresh_server.stop()
    fresh_server.start()
    model = ml.get_logged_model(info.model_id)
    assert (model.source_run_id, model.status) == (run.info.run_id, LoggedModelStatus.READY)
    loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/clf")
    assert list(loaded.predict(features[:3])) == list(labels[:3])
