"""Models saved by the real mlflow client load through loopml, pickles only when trusted."""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from loopml.core.errors import InvalidArgument
from loopml.models import load_model, read_manifest

Table = tuple[pd.DataFrame, pd.Series]
PIP = ["mlflow"]  # given, so MLflow does not infer requirements in a subprocess (slow)

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore:Operation with range is deprecated"),
]


@pytest.fixture(autouse=True)
def _quiet_mlflow(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    yield


@pytest.mark.parametrize("fmt", ["pickle", "cloudpickle"])
def test_pickled_sklearn_model_needs_trust_pickle(tmp_path: Path, table: Table, fmt: str) -> None:
    import mlflow.sklearn

    x, y = table
    model = LogisticRegression().fit(x, y)
    mlflow.sklearn.save_model(
        model,
        tmp_path / "m",
        serialization_format=fmt,
        input_example=x.head(),
        pip_requirements=PIP,
    )
    with pytest.raises(InvalidArgument, match=r"stored as a pickle.*trust_pickle=True"):
        load_model(tmp_path / "m")
    loaded = load_model(tmp_path / "m", trust_pickle=True)
    assert loaded.flavor == "sklearn" and not loaded.manifest.is_loopml
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    # MLflow's signature is enforced too.
    with pytest.raises(InvalidArgument, match="Missing column 'income'"):
        loaded.predict(x.drop(columns="income"))


def test_skops_sklearn_model_loads_without_pickle(tmp_path: Path, table: Table) -> None:
    import mlflow.sklearn

    x, y = table
    model = LogisticRegression().fit(x, y)
    mlflow.sklearn.save_model(model, tmp_path / "m", input_example=x.head(), pip_requirements=PIP)
    # skops is MLflow's default format
    assert read_manifest(tmp_path / "m").flavor_conf["serialization_format"] == "skops"
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(x), model.predict(x))


def test_malicious_pickle_in_an_mlflow_model_is_refused(tmp_path: Path, table: Table) -> None:
    import mlflow.sklearn

    x, y = table
    mlflow.sklearn.save_model(
        LogisticRegression().fit(x, y),
        tmp_path / "m",
        serialization_format="pickle",
        pip_requirements=PIP,
    )
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "m" / "model.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(InvalidArgument, match=r"Refusing to unpickle 'model\.pkl'.*system"):
        load_model(tmp_path / "m", trust_pickle=True)
    assert not marker.exists()


def test_native_flavors_saved_by_mlflow(tmp_path: Path, table: Table) -> None:
    import lightgbm as lgb
    import mlflow.lightgbm
    import mlflow.xgboost
    import xgboost as xgb

    x, y = table
    booster = xgb.XGBClassifier(n_estimators=3).fit(x, y)
    mlflow.xgboost.save_model(
        booster, tmp_path / "xgb", input_example=x.head(), pip_requirements=PIP
    )
    np.testing.assert_array_equal(load_model(tmp_path / "xgb").predict(x), booster.predict(x))

    trained = lgb.train({"verbose": -1}, lgb.Dataset(x, y), num_boost_round=3)
    mlflow.lightgbm.save_model(trained, tmp_path / "lgb", pip_requirements=PIP)
    np.testing.assert_allclose(load_model(tmp_path / "lgb").predict(x), trained.predict(x))


def test_pickled_python_model(tmp_path: Path, table: Table) -> None:
    import mlflow.pyfunc

    x, _ = table
    factor = tmp_path / "factor.txt"
    factor.write_text("2.5")

    class Model(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            self.factor = float(Path(context.artifacts["factor"]).read_text())

        def predict(self, context, model_input, params=None):
            return model_input["income"] * self.factor

    mlflow.pyfunc.save_model(
        tmp_path / "m",
        python_model=Model(),
        artifacts={"factor": str(factor)},
        input_example=x,
        pip_requirements=PIP,
    )
    with pytest.raises(InvalidArgument, match="trust_pickle=True"):
        load_model(tmp_path / "m")
    loaded = load_model(tmp_path / "m", trust_pickle=True)
    np.testing.assert_allclose(loaded.predict(x), x["income"] * 2.5)


def test_unsupported_mlflow_flavor(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "MLmodel").write_text(
        "flavors:\n  pytorch:\n    model_data: data\n  python_function:\n"
        "    loader_module: mlflow.pytorch\n"
    )
    with pytest.raises(InvalidArgument, match="'pytorch' flavor, which loopml does not load"):
        load_model(tmp_path / "m")
