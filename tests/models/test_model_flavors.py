"""Each flavor round-trips (save, load, same predictions), and the manifest says what it holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopml.core.errors import AlreadyExists, InvalidArgument
from loopml.core.hashing import hash_bytes
from loopml.models import load_model, read_manifest, save_model

Table = tuple[pd.DataFrame, pd.Series]


def test_sklearn_pipeline_round_trip_and_manifest(tmp_path: Path, table: Table) -> None:
    x, y = table
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    manifest = save_model(pipeline, tmp_path / "m", input_example=x.head(3))

    loaded = load_model(tmp_path / "m")
    assert loaded.flavor == "sklearn" and type(loaded.raw).__name__ == "Pipeline"
    np.testing.assert_array_equal(loaded.predict(x), pipeline.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), pipeline.predict_proba(x))

    raw = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert raw["loopml_format_version"] == 1
    assert raw["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert raw["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    inputs = json.loads(raw["signature"]["inputs"])
    assert [(c["name"], c["type"]) for c in inputs] == [
        ("age", "long"),
        ("income", "double"),
        ("score", "double"),
        ("ratio", "float"),
    ]
    assert json.loads(raw["signature"]["outputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]
    assert raw["saved_input_example_info"] == {
        "artifact_path": "input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
    }
    example = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert example["columns"] == ["age", "income", "score", "ratio"] and len(example["data"]) == 3
    assert any(r.startswith("scikit-learn==") for r in raw["requirements"])
    assert raw["python_version"].count(".") == 2 and raw["loopml_version"]
    assert len(raw["model_uuid"]) == 32 and raw["utc_time_created"]
    skops_bytes = (tmp_path / "m" / "model.skops").read_bytes()
    assert raw["files"]["model.skops"] == {
        "size": len(skops_bytes),
        "blake3": hash_bytes(skops_bytes),
    }
    assert raw["model_size_bytes"] == sum(f["size"] for f in raw["files"].values())
    assert read_manifest(tmp_path / "m") == manifest
    pd.testing.assert_frame_equal(loaded.input_example(), x.head(3), check_dtype=False)


def test_sklearn_fitted_on_arrays_gets_arrays(tmp_path: Path, table: Table) -> None:
    x, y = table
    values = x.to_numpy()
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(values, y)
    save_model(forest, tmp_path / "m", input_example=values[:2])
    loaded = load_model(tmp_path / "m")
    assert loaded.signature is not None and loaded.signature.inputs.is_tensor
    np.testing.assert_array_equal(loaded.predict(values), forest.predict(values))


def test_sklearn_regressor_without_example_has_no_signature(tmp_path: Path, table: Table) -> None:
    x, _ = table
    model = LinearRegression().fit(x, x["income"] * 2)
    save_model(model, tmp_path / "m")
    loaded = load_model(str(tmp_path / "m"))
    assert loaded.signature is None
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    with pytest.raises(InvalidArgument, match="has no predict_proba"):
        loaded.predict_proba(x)


def test_xgboost_classifier_and_booster(tmp_path: Path, table: Table) -> None:
    import xgboost as xgb

    x, y = table
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(x, y)
    save_model(model, tmp_path / "clf", input_example=x.head())
    loaded = load_model(tmp_path / "clf")
    assert type(loaded.raw) is xgb.XGBClassifier
    assert read_manifest(tmp_path / "clf").flavor_conf["model_class"].endswith("XGBClassifier")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))

    booster = model.get_booster()
    save_model(booster, tmp_path / "booster", input_example=x.head())
    again = load_model(tmp_path / "booster")
    assert type(again.raw) is xgb.Booster
    np.testing.assert_allclose(again.predict(x), booster.inplace_predict(x))


def test_lightgbm_classifier_keeps_its_labels(tmp_path: Path, table: Table) -> None:
    import lightgbm as lgb

    x, y = table
    labels = np.where(y == 1, "churn", "stay")
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(x, labels)
    save_model(model, tmp_path / "m", input_example=x.head())
    loaded = load_model(tmp_path / "m")
    assert type(loaded.raw) is lgb.LGBMClassifier
    predicted = loaded.predict(x)
    assert set(predicted) <= {"churn", "stay"}
    np.testing.assert_array_equal(predicted, model.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))
    np.testing.assert_array_equal(loaded.raw.classes_, model.classes_)


def test_lightgbm_regressor_and_booster(tmp_path: Path, table: Table) -> None:
    import lightgbm as lgb

    x, _ = table
    target = x["income"] + x["score"]
    model = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(x.to_numpy(), target)
    save_model(model, tmp_path / "reg", input_example=x.to_numpy()[:2])
    np.testing.assert_allclose(
        load_model(tmp_path / "reg").predict(x.to_numpy()), model.predict(x.to_numpy())
    )
    save_model(model.booster_, tmp_path / "booster")
    loaded = load_model(tmp_path / "booster")
    assert type(loaded.raw) is lgb.Booster
    np.testing.assert_allclose(loaded.predict(x.to_numpy()), model.predict(x.to_numpy()))


def test_onnx_from_proto_bytes_and_path(tmp_path: Path, table: Table) -> None:
    from skl2onnx import to_onnx

    x, y = table
    values = x.to_numpy().astype(np.float32)
    model = LogisticRegression().fit(values, y)
    proto = to_onnx(model, values[:1], options={"zipmap": False})
    save_model(proto, tmp_path / "proto")
    loaded = load_model(tmp_path / "proto")
    assert loaded.flavor == "onnx" and type(loaded.raw).__name__ == "InferenceSession"
    # Without an example the signature comes from the ONNX inputs.
    assert loaded.signature is not None
    assert [(s.name, s.dtype, s.shape) for s in loaded.signature.inputs.inputs] == [
        ("X", "float32", (-1, 4))
    ]
    np.testing.assert_array_equal(loaded.predict(values), model.predict(values))
    np.testing.assert_allclose(loaded.predict_proba(values), model.predict_proba(values), atol=1e-5)
    # float64 rows fit float32: accepted (JSON has only doubles).
    np.testing.assert_array_equal(loaded.predict(x.to_numpy()), model.predict(values))

    (tmp_path / "model.onnx").write_bytes(proto.SerializeToString())
    save_model(str(tmp_path / "model.onnx"), tmp_path / "from_path", input_example=x.head())
    by_columns = load_model(tmp_path / "from_path")
    np.testing.assert_array_equal(by_columns.predict(x), model.predict(values))
    save_model(proto.SerializeToString(), tmp_path / "from_bytes", flavor="onnx")
    assert load_model(tmp_path / "from_bytes").predict(values[:3]).tolist() == (
        model.predict(values[:3]).tolist()
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("kind", "loader"),
    [
        ("sklearn", "mlflow.sklearn"),
        ("xgboost", "mlflow.xgboost"),
        ("onnx", "mlflow.onnx"),
        ("lightgbm booster", "mlflow.lightgbm"),
        ("lightgbm wrapper", "loopml.models"),
    ],
)
def test_mlflow_client_loads_a_loopml_model(
    tmp_path: Path, table: Table, kind: str, loader: str
) -> None:
    import lightgbm as lgb
    import mlflow.pyfunc
    import xgboost as xgb
    from skl2onnx import to_onnx

    x, y = table
    values = x.to_numpy().astype(np.float32)
    if kind == "sklearn":
        model, data = LogisticRegression().fit(x, y), x
    elif kind == "xgboost":
        model, data = xgb.XGBClassifier(n_estimators=3).fit(x, y), x
    elif kind == "onnx":
        model, data = LogisticRegression().fit(values, y), values
    else:
        model, data = lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(values, y), values
    saved: object = model
    if kind == "onnx":
        saved = to_onnx(model, values[:1], options={"zipmap": False})
    elif kind == "lightgbm booster":
        saved = model.booster_
    save_model(saved, tmp_path / "m", input_example=data[:5])
    assert read_manifest(tmp_path / "m").flavors["python_function"]["loader_module"] == loader
    predicted = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(data)
    if kind == "onnx":  # MLflow's onnx flavor answers every output, by name
        predicted = predicted["label"]
    booster = kind == "lightgbm booster"
    expected = model.predict_proba(data)[:, 1] if booster else model.predict(data)
    np.testing.assert_allclose(np.asarray(predicted).reshape(expected.shape), expected, rtol=1e-5)


def test_mlflow_sklearn_flavor_reads_a_loopml_model(tmp_path: Path, table: Table) -> None:
    import mlflow.sklearn

    x, y = table
    model = LogisticRegression().fit(x, y)
    save_model(model, tmp_path / "m", input_example=x.head())
    restored = mlflow.sklearn.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))


def test_save_refuses_an_existing_folder_and_leaves_nothing_on_failure(
    tmp_path: Path, table: Table
) -> None:
    x, y = table
    model = LogisticRegression().fit(x, y)
    save_model(model, tmp_path / "m")
    with pytest.raises(AlreadyExists, match="not empty"):
        save_model(model, tmp_path / "m")
    (tmp_path / "empty").mkdir()
    save_model(model, tmp_path / "empty")  # an empty folder is taken
    assert (tmp_path / "empty" / "MLmodel").is_file()

    with pytest.raises(InvalidArgument, match="Cannot tell how to save a dict"):
        save_model({"not": "a model"}, tmp_path / "bad")
    with pytest.raises(InvalidArgument, match="Unknown flavor 'torch'"):
        save_model(model, tmp_path / "bad", flavor="torch")
    with pytest.raises(InvalidArgument, match="not a valid ONNX model"):
        save_model(b"not onnx", tmp_path / "bad", flavor="onnx")
    with pytest.raises(InvalidArgument, match="input example"):
        save_model(model, tmp_path / "bad", input_example=pd.DataFrame({"x": [object()]}))
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ["empty", "m"], leftovers


def test_unfitted_native_models_are_refused(tmp_path: Path) -> None:
    import lightgbm as lgb
    import xgboost as xgb

    with pytest.raises(InvalidArgument, match="XGBoost cannot save"):
        save_model(xgb.XGBClassifier(), tmp_path / "x")
    with pytest.raises(InvalidArgument, match="LightGBM cannot save"):
        save_model(lgb.LGBMClassifier(), tmp_path / "l")
