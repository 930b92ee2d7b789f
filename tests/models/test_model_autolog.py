"""autolog: params, training metrics and the model of the outermost fit, once."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import loopml as lm
from loopml.models import autolog, load_model
from loopml.tracking import get_client

Table = tuple[pd.DataFrame, pd.Series]


@pytest.fixture
def autologging(sdk: str) -> Iterator[None]:
    autolog()
    yield
    autolog(disable=True)


def _runs() -> list[lm.Run]:
    return lm.search_runs(output_format="list")  # type: ignore[return-value]


def test_classifier_fit_logs_params_metrics_and_model(autologging: None, table: Table) -> None:
    x, y = table
    model = LogisticRegression(C=0.5, max_iter=200)
    assert model.fit(x, y) is model
    (run,) = _runs()
    assert run.info.status == "FINISHED"
    assert run.data.params["C"] == "0.5" and run.data.params["max_iter"] == "200"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    metrics = run.data.metrics
    assert metrics["training_accuracy_score"] == pytest.approx(model.score(x, y))
    for key in ("precision_score", "recall_score", "f1_score", "log_loss", "roc_auc", "score"):
        assert 0.0 <= metrics[f"training_{key}"] <= 10.0, key
    loaded = load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.signature is not None
    assert [c.name for c in loaded.signature.inputs.inputs] == list(x.columns)


def test_regressor_metrics_inside_the_users_run(autologging: None, table: Table) -> None:
    x, _ = table
    target = x["income"] * 2 + x["score"]
    with lm.start_run() as run:
        LinearRegression().fit(x.to_numpy(), target.to_numpy())
        assert lm.active_run() is run  # autolog does not end the user's run
    metrics = lm.get_run(run.info.run_id).data.metrics
    assert metrics["training_r2_score"] == pytest.approx(1.0)
    assert metrics["training_root_mean_squared_error"] == pytest.approx(
        np.sqrt(metrics["training_mean_squared_error"])
    )
    assert {"training_mean_absolute_error", "training_score"} <= set(metrics)


def test_pipeline_and_search_log_once(autologging: None, table: Table) -> None:
    x, y = table
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    pipeline.fit(x, y)
    GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(x, y)
    runs = _runs()
    assert sorted(r.data.tags["estimator_name"] for r in runs) == ["GridSearchCV", "Pipeline"]
    for run in runs:
        files = get_client().list_artifact_entries(run.info.run_id, "model")
        assert any(e.path == "model/MLmodel" for e in files)


def test_native_boosting_wrappers(autologging: None, table: Table) -> None:
    import lightgbm as lgb
    import xgboost as xgb

    x, y = table
    xgb.XGBClassifier(n_estimators=3).fit(x, y)
    lgb.LGBMRegressor(n_estimators=3, verbose=-1).fit(x, x["income"])
    flavors = {}
    for run in _runs():
        loaded = load_model(f"runs:/{run.info.run_id}/model")
        flavors[run.data.tags["estimator_name"]] = loaded.flavor
    assert flavors == {"XGBClassifier": "xgboost", "LGBMRegressor": "lightgbm"}


def test_logging_failure_warns_but_the_fit_succeeds(autologging: None, table: Table) -> None:
    x, y = table
    with lm.start_run() as run:
        lm.log_text("taken", "model/readme.txt")  # the model's artifact path is in use
        with pytest.warns(UserWarning, match="autolog could not log"):
            model = LogisticRegression().fit(x, y)
    assert hasattr(model, "coef_")
    assert "training_accuracy_score" in lm.get_run(run.info.run_id).data.metrics


def test_disable_restores_fit(sdk: str, table: Table) -> None:
    x, y = table
    original = LogisticRegression.fit
    autolog(log_models=False)
    try:
        assert LogisticRegression.fit is not original
        LogisticRegression().fit(x, y)
        (run,) = _runs()
        assert get_client().list_artifact_entries(run.info.run_id, "model") == []
    finally:
        autolog(disable=True)
    assert LogisticRegression.fit is original
    LogisticRegression().fit(x, y)
    assert len(_runs()) == 1
