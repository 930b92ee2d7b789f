"""The ONNX Runtime fast path: used when it reproduces the model, else refused with a reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from serving_support import FEATURES, cancelling_regressor, classifier, features
from sklearn.linear_model import LinearRegression

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.models import load_model, save_model
from loopml.serving import ServeConfig, choose_fast_path
from loopml.serving._payload import Table
from loopml.serving._served import ModelKey, ServedModel, load_served


def _saved(tmp_path: Path, model: object, example: object, name: str = "m") -> object:
    save_model(model, tmp_path / name, input_example=example)
    return load_model(tmp_path / name)


def test_a_logistic_regression_pipeline_takes_the_onnx_path(tmp_path: Path) -> None:
    loaded = _saved(tmp_path, classifier(), features()[:5])
    fast = choose_fast_path(loaded)
    assert fast.path == "onnx", fast.reason
    assert "same labels" in fast.reason
    assert fast.predictor is not None
    X = features(200, seed=3)
    expected = classifier().predict(X)
    # columns in another order, a numeric table, and a plain DataFrame all agree with sklearn
    shuffled = X[FEATURES[::-1]]
    table = Table(tuple(shuffled.columns), shuffled.to_numpy())
    assert np.array_equal(fast.predictor(table), expected)
    assert np.array_equal(fast.predictor(X), expected)


def test_input_the_fast_path_cannot_take_goes_to_the_native_path(tmp_path: Path) -> None:
    loaded = _saved(tmp_path, classifier(), features()[:5])
    predictor = choose_fast_path(loaded).predictor
    assert predictor is not None
    nan = features(2)
    nan.loc[0, "a"] = np.nan
    assert predictor(nan) is None  # NaN: the native model decides
    assert predictor(features(2)[["a", "b", "c"]]) is None  # a missing column: native names it
    assert predictor(pd.DataFrame({**features(2).to_dict("list"), "a": ["x", "y"]})) is None


def test_a_regressor_that_float32_cannot_reproduce_stays_native(tmp_path: Path) -> None:
    model, X = cancelling_regressor()
    loaded = _saved(tmp_path, model, X[:10])
    fast = choose_fast_path(loaded)
    assert fast.path == "native"
    assert fast.predictor is None
    assert "rtol" in fast.reason


def test_a_well_conditioned_regressor_takes_the_onnx_path(tmp_path: Path) -> None:
    X = features()
    model = LinearRegression().fit(X, X.a * 3 - X.b + 0.5)
    fast = choose_fast_path(_saved(tmp_path, model, X[:5]))
    assert fast.path == "onnx", fast.reason
    assert fast.predictor is not None
    assert np.allclose(fast.predictor(X), model.predict(X), rtol=1e-4)


def test_reasons_for_staying_native(tmp_path: Path) -> None:
    loaded = _saved(tmp_path, classifier(), features()[:5])
    assert choose_fast_path(loaded, enabled=False).reason == "the ONNX fast path is turned off"
    no_example = tmp_path / "no-example"
    save_model(classifier(), no_example, signature=loaded.signature)
    fast = choose_fast_path(load_model(no_example))
    assert fast.path == "native" and "input example" in fast.reason


def _served(folder: Path, cache: Path) -> ServedModel:
    key = ModelKey(str(folder), "1", "m")
    config = ServeConfig(model_uri=str(folder), onnx_cache=str(cache))
    return load_served(key, config, client=None)


def test_a_verified_conversion_serves_the_next_start_at_once(tmp_path: Path) -> None:
    save_model(classifier(), tmp_path / "m", input_example=features()[:5])
    cache = tmp_path / "onnx-cache"
    first = _served(tmp_path / "m", cache)
    assert first.fast.path == "native" and "background" in first.fast.reason
    assert first.fast_path_settled.wait(60) and first.fast.path == "onnx"
    assert len(list(cache.iterdir())) == 1  # the verified conversion was kept

    again = _served(tmp_path / "m", cache)
    assert again.fast.path == "onnx" and "earlier start" in again.fast.reason
    X = features(50, seed=5)
    expected = classifier().predict(X)
    assert np.array_equal(again.predict(Table(tuple(X.columns), X.to_numpy())), expected)
    # Input the fast path leaves to the native model waits for it, then gets its answer.
    with_nan = X.astype(float).copy()
    with_nan.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        again.predict(with_nan)  # scikit-learn's own answer to NaN: it came from the native model
    with pytest.raises(InvalidArgument, match="extra"):
        again.predict(X.assign(extra=1.0))  # the signature check of the loaded model


def test_a_damaged_or_foreign_cache_entry_is_not_used(tmp_path: Path) -> None:
    save_model(classifier(), tmp_path / "m", input_example=features()[:5])
    save_model(classifier(flip=True), tmp_path / "other", input_example=features()[:5])
    cache = tmp_path / "onnx-cache"
    assert _served(tmp_path / "m", cache).fast_path_settled.wait(60)
    (entry,) = cache.iterdir()
    other = _served(tmp_path / "other", cache)  # another model: another key
    assert other.fast.path == "native"
    assert other.fast_path_settled.wait(60)
    (entry / "model.onnx").write_bytes(b"not an onnx model")
    assert _served(tmp_path / "m", cache).fast.path == "native"  # re-checked, not trusted


def test_a_conversion_saved_with_the_model_serves_the_first_start(tmp_path: Path) -> None:
    manifest = save_model(classifier(), tmp_path / "m", input_example=features()[:5], onnx=True)
    entry = manifest.flavor_conf["onnx"]
    assert entry["path"] == "onnx/model.onnx" and entry["path"] in manifest.files
    assert "same labels" in entry["reason"]
    served = _served(tmp_path / "m", tmp_path / "empty-cache")
    assert served.fast.path == "onnx" and "when it was saved" in served.fast.reason
    X = features(50, seed=7)
    assert np.array_equal(
        served.predict(Table(tuple(X.columns), X.to_numpy())), classifier().predict(X)
    )
    assert served.fast_path_settled.wait(60) and served.fast.path == "onnx"
    assert not (tmp_path / "empty-cache").exists()  # nothing to convert, nothing kept
    # The saved model is an ordinary sklearn model for every other reader.
    assert np.array_equal(load_model(tmp_path / "m").predict(X), classifier().predict(X))


def test_a_conversion_that_disagrees_is_left_out_with_a_warning(tmp_path: Path) -> None:
    model, X = cancelling_regressor()
    with pytest.warns(UserWarning, match="without its ONNX conversion: .*rtol"):
        manifest = save_model(model, tmp_path / "m", input_example=X[:10], onnx=True)
    assert "onnx" not in manifest.flavor_conf
    assert not (tmp_path / "m" / "onnx").exists()


def test_onnx_true_is_refused_where_it_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="needs an input_example"):
        save_model(classifier(), tmp_path / "a", onnx=True)
    with pytest.raises(InvalidArgument, match="converts scikit-learn models"):
        save_model(LinearRegression(), tmp_path / "b", flavor="python_function", onnx=True)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_tampered_saved_conversion_is_not_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    save_model(classifier(), tmp_path / "m", input_example=features()[:5], onnx=True)
    (tmp_path / "m" / "onnx" / "model.onnx").write_bytes(b"tampered")
    # Not run: its digest does not match; and the model folder itself is refused as changed.
    with pytest.raises(CorruptObject, match=r"onnx/model\.onnx"):
        _served(tmp_path / "m", tmp_path / "cache")
    assert "does not match its digest" in caplog.text
