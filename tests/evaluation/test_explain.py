"""Permutation importance and SHAP explanations on real fitted models."""

from __future__ import annotations

import json
import warnings
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.compose import make_column_transformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopml.core.errors import InvalidArgument
from loopml.evaluation._explain import (
    ExplainerUnsupported,
    ShapExplanation,
    permutation_importance,
    shap_explanation,
)

# small sampled explanations keep the suite quick; the defaults are exercised on trees
FAST: dict[str, Any] = {"sample_rows": 20, "background_rows": 10}


def _numeric(rows: int = 400, features: int = 10, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric columns where only f0 and f1 decide the label."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, features)), columns=[f"f{i}" for i in range(features)])
    y = (X["f0"] + 0.5 * X["f1"] > 0).astype(int).to_numpy()
    return X, y


def _mixed(rows: int = 300, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """A string column that decides the label, a numeric signal and a noise column."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["berlin", "paris", "rome"], size=rows)
    signal = rng.normal(size=rows)
    X = pd.DataFrame(
        {"city": pd.Series(city, dtype="str"), "signal": signal, "noise": rng.normal(size=rows)}
    )
    y = ((city == "berlin") | (signal > 1.0)).astype(int)
    return X, y


def _pipeline(X: pd.DataFrame, y: np.ndarray) -> Any:
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["city"]), remainder=StandardScaler()
        ),
        LogisticRegression(),
    )
    return model.fit(X, y)


def _totals(explanation: ShapExplanation) -> np.ndarray:
    return np.array(
        [row["base_value"] + sum(row["contributions"].values()) for row in explanation.rows]
    )


def _explained(explanation: ShapExplanation, X: pd.DataFrame) -> pd.DataFrame:
    return X.loc[[row["row"] for row in explanation.rows]]


# -- permutation importance ------------------------------------------------------------------


def test_the_deciding_feature_ranks_first_and_noise_scores_zero() -> None:
    X, y = _mixed()

    def predict(frame: pd.DataFrame) -> np.ndarray:
        # a black box that only reads `city`
        return (frame["city"] == "berlin").to_numpy().astype(int)

    result = permutation_importance(predict, X, y, accuracy_score, n_repeats=3)

    assert result[0]["feature"] == "city"
    by_name = {row["feature"]: row for row in result}
    assert by_name["city"]["importance_mean"] > 0.2
    assert by_name["noise"]["importance_mean"] == 0.0
    assert by_name["noise"]["importance_std"] == 0.0
    assert set(by_name) == {"city", "signal", "noise"}


def test_importance_of_a_fitted_pipeline_orders_signal_above_noise() -> None:
    X, y = _mixed()
    model = _pipeline(X, y)

    result = permutation_importance(model.predict, X, y, accuracy_score, n_repeats=3)

    names = [row["feature"] for row in result]
    assert names.index("noise") == 2
    assert result[0]["importance_mean"] > result[2]["importance_mean"] + 0.05


def test_a_loss_is_turned_so_that_larger_means_more_important() -> None:
    X, _ = _numeric(rows=300, features=3)
    y = 3.0 * X["f0"].to_numpy()
    model = LinearRegression().fit(X, y)

    result = permutation_importance(
        model.predict, X, y, mean_absolute_error, greater_is_better=False, n_repeats=2
    )

    assert result[0]["feature"] == "f0"
    assert result[0]["importance_mean"] > 1.0
    assert abs(result[-1]["importance_mean"]) < 1e-6


def test_shuffled_frames_keep_columns_dtypes_and_the_row_cap() -> None:
    X, y = _mixed(rows=500)
    X["city"] = X["city"].astype("category")
    seen: list[pd.DataFrame] = []

    def predict(frame: pd.DataFrame) -> np.ndarray:
        seen.append(frame)
        return (frame["city"] == "berlin").to_numpy().astype(int)

    permutation_importance(predict, X, y, accuracy_score, n_repeats=2, max_rows=120)

    assert len(seen) == 1 + 3 * 2  # once intact, then once per feature per repeat
    for frame in seen:
        assert len(frame) == 120
        assert list(frame.columns) == list(X.columns)
        assert frame.dtypes.equals(X.dtypes)
    assert X["city"].dtype == "category"  # the caller's frame is untouched


def test_the_same_seed_gives_the_same_importances() -> None:
    X, y = _mixed()
    model = _pipeline(X, y)
    first = permutation_importance(model.predict, X, y, accuracy_score, seed=7)
    again = permutation_importance(model.predict, X, y, accuracy_score, seed=7)
    assert first == again


def test_a_non_finite_score_gives_nan_listed_last() -> None:
    X, y = _numeric(rows=50, features=2)

    def score(truth: np.ndarray, predicted: np.ndarray) -> float:
        return float("inf")

    result = permutation_importance(lambda frame: frame["f0"].to_numpy(), X, y, score)
    assert all(np.isnan(row["importance_mean"]) for row in result)


@pytest.mark.parametrize(
    ("rows", "y_length", "options", "message"),
    [
        (0, 0, {}, "at least one row"),
        (10, 9, {}, "y has 9 values but X has 10 rows"),
        (10, 10, {"n_repeats": 0}, "n_repeats"),
        (10, 10, {"max_rows": 0}, "max_rows"),
    ],
)
def test_bad_arguments_are_named(
    rows: int, y_length: int, options: dict[str, Any], message: str
) -> None:
    X = pd.DataFrame({"a": np.arange(rows, dtype=float)})
    with pytest.raises(InvalidArgument, match=message):
        permutation_importance(
            lambda frame: frame["a"].to_numpy(),
            X,
            np.zeros(y_length),
            accuracy_score,
            **options,
        )


# -- SHAP on tree models ---------------------------------------------------------------------


def _margin(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """The model's own raw output for its second class: what TreeExplainer explains."""
    if isinstance(model, xgboost.XGBClassifier):
        return np.asarray(model.predict(frame, output_margin=True))
    if isinstance(model, lightgbm.LGBMClassifier):
        return np.asarray(model.predict(frame, raw_score=True))
    return np.asarray(model.decision_function(frame))


@pytest.mark.parametrize(
    ("model", "output"),
    [
        (RandomForestClassifier(n_estimators=50, random_state=0), "probability"),
        (GradientBoostingClassifier(n_estimators=30, random_state=0), "raw"),
        (HistGradientBoostingClassifier(max_iter=30, random_state=0), "raw"),
        (xgboost.XGBClassifier(n_estimators=30, max_depth=3), "raw"),
        (lightgbm.LGBMClassifier(n_estimators=30, verbose=-1), "raw"),
    ],
    ids=["random-forest", "gradient-boosting", "hist-gradient-boosting", "xgboost", "lightgbm"],
)
def test_tree_classifiers_are_explained_exactly(model: Any, output: str) -> None:
    X, y = _numeric()
    model.fit(X, y)

    explanation = shap_explanation(model, lambda frame: model.predict_proba(frame)[:, 1], X)

    assert explanation.kind == "tree"
    assert explanation.output == output
    assert len(explanation.rows) == 100
    rows = _explained(explanation, X)
    expected = model.predict_proba(rows)[:, 1] if output == "probability" else _margin(model, rows)
    np.testing.assert_allclose(_totals(explanation), expected, atol=1e-4)
    assert {name for name, _ in explanation.global_importance[:2]} == {"f0", "f1"}


def test_a_tree_regressor_explains_its_prediction() -> None:
    X, _ = _numeric(features=4)
    y = 2.0 * X["f0"].to_numpy() - X["f2"].to_numpy()
    model = RandomForestRegressor(n_estimators=30, random_state=0).fit(X, y)

    explanation = shap_explanation(model, model.predict, X, sample_rows=30)

    assert (explanation.kind, explanation.output) == ("tree", "prediction")
    np.testing.assert_allclose(
        _totals(explanation), model.predict(_explained(explanation, X)), atol=1e-4
    )
    assert explanation.global_importance[0][0] == "f0"
    importances = [value for _, value in explanation.global_importance]
    assert importances == sorted(importances, reverse=True)


@pytest.mark.parametrize(
    "model",
    [
        RandomForestClassifier(n_estimators=30, random_state=0),
        xgboost.XGBClassifier(n_estimators=20, max_depth=3),
    ],
    ids=["random-forest", "xgboost"],
)
def test_the_class_predict_returns_is_the_one_explained(model: Any) -> None:
    X, y = _numeric()
    labels = np.where(y == 1, "no", "yes")  # the class of interest sorts first
    model.fit(X, y if isinstance(model, xgboost.XGBClassifier) else labels)

    def column_zero(frame: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(frame)[:, 0]

    explanation = shap_explanation(model, column_zero, X, sample_rows=40)

    rows = _explained(explanation, X)
    if explanation.output == "probability":
        np.testing.assert_allclose(_totals(explanation), column_zero(rows), atol=1e-4)
    else:  # the log-odds of class 0 are minus those of class 1
        assert explanation.output == "raw"
        np.testing.assert_allclose(_totals(explanation), -_margin(model, rows), atol=1e-4)


def test_probability_output_explains_a_boosted_models_probability() -> None:
    X, y = _numeric(features=5)
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)

    def positive(frame: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(frame)[:, 1]

    explanation = shap_explanation(model, positive, X, sample_rows=30, output="probability")

    assert (explanation.kind, explanation.output) == ("tree", "probability")
    np.testing.assert_allclose(
        _totals(explanation), positive(_explained(explanation, X)), atol=1e-4
    )


def test_prediction_output_forces_the_sampled_explainer() -> None:
    X, y = _numeric(features=3)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)

    explanation = shap_explanation(
        model, lambda frame: model.predict_proba(frame)[:, 1], X, output="prediction", **FAST
    )

    assert (explanation.kind, explanation.output) == ("sampled", "prediction")


def test_a_multiclass_tree_model_falls_back_to_explaining_predict() -> None:
    X, y = _numeric(features=3)
    classes = y + (X["f2"] > 1).to_numpy().astype(int)  # three classes
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, classes)

    def top(frame: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(frame).max(axis=1)

    explanation = shap_explanation(model, top, X, **FAST)

    assert explanation.kind == "sampled"
    assert "outputs" in explanation.notices[0]
    np.testing.assert_allclose(_totals(explanation), top(_explained(explanation, X)), atol=1e-6)


# -- SHAP by sampling ------------------------------------------------------------------------


def test_a_pipeline_with_a_string_column_gets_the_sampled_explainer() -> None:
    X, y = _mixed()
    model = _pipeline(X, y)
    frames: list[pd.DataFrame] = []

    def positive(frame: pd.DataFrame) -> np.ndarray:
        frames.append(frame)
        return model.predict_proba(frame)[:, 1]

    explanation = shap_explanation(model, positive, X, **FAST)

    assert (explanation.kind, explanation.output) == ("sampled", "prediction")
    assert explanation.features == ["city", "signal", "noise"]
    assert len(explanation.rows) == 20
    # every frame predict saw has the original columns, dtypes and values
    assert all(frame.dtypes.equals(X.dtypes) for frame in frames)
    assert set().union(*(set(frame["city"]) for frame in frames)) <= set(X["city"])
    # the permutation explainer is exact in sum: base + contributions == predict
    rows = _explained(explanation, X)
    np.testing.assert_allclose(_totals(explanation), positive(rows), atol=1e-6)
    assert explanation.global_importance[-1][0] == "noise"


def test_a_tree_model_on_categorical_columns_is_sampled() -> None:
    X, y = _mixed()
    X["city"] = X["city"].astype("category")
    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y)

    def positive(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict_proba(frame))[:, 1]

    explanation = shap_explanation(model, positive, X, **FAST)

    assert explanation.kind == "sampled"
    np.testing.assert_allclose(
        _totals(explanation), positive(_explained(explanation, X)), atol=1e-6
    )


def test_the_same_seed_gives_the_same_explanation() -> None:
    X, y = _mixed()
    model = _pipeline(X, y)

    def positive(frame: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(frame)[:, 1]

    np.random.seed(123)
    first = shap_explanation(model, positive, X, seed=3, **FAST)
    again = shap_explanation(model, positive, X, seed=3, **FAST)
    other = shap_explanation(model, positive, X, seed=4, **FAST)

    assert first == again
    assert [row["row"] for row in other.rows] != [row["row"] for row in first.rows]
    # shap seeds NumPy's global generator; the caller's stream is given back
    assert np.random.random() == np.random.RandomState(123).random()


def test_explaining_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    X, y = _mixed()
    model = _pipeline(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shap_explanation(model, lambda frame: model.predict_proba(frame)[:, 1], X, **FAST)
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_the_document_is_json_and_names_rows_by_index_label() -> None:
    X, y = _mixed(rows=60)
    X.index = pd.Index([f"id-{i}" for i in range(60)])
    model = _pipeline(X, y)

    explanation = shap_explanation(
        model, lambda frame: model.predict_proba(frame)[:, 1], X, sample_rows=5, background_rows=5
    )

    document = json.loads(json.dumps(explanation.to_dict()))
    assert document["kind"] == "sampled"
    assert document["output"] == "prediction"
    assert document["features"] == ["city", "signal", "noise"]
    assert [item["feature"] for item in document["global_importance"]] == [
        name for name, _ in explanation.global_importance
    ]
    assert all(row["row"].startswith("id-") for row in document["rows"])
    assert set(document["rows"][0]["contributions"]) == {"city", "signal", "noise"}


# -- what cannot be explained ----------------------------------------------------------------


def test_a_predict_returning_strings_is_unsupported() -> None:
    X, y = _mixed()
    model = _pipeline(X, np.where(y == 1, "churn", "stay"))

    with pytest.raises(ExplainerUnsupported, match="non-numeric"):
        shap_explanation(model, model.predict, X, **FAST)


def test_a_failing_or_misshapen_predict_is_unsupported() -> None:
    X, _ = _numeric(rows=30, features=2)

    def broken(frame: pd.DataFrame) -> np.ndarray:
        raise RuntimeError("model server down")

    with pytest.raises(ExplainerUnsupported, match="predict failed: RuntimeError: model server"):
        shap_explanation(object(), broken, X, **FAST)
    with pytest.raises(ExplainerUnsupported, match="one number per row"):
        shap_explanation(object(), lambda frame: np.ones((len(frame), 3)), X, **FAST)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"output": "log-odds"}, "output must be one of"),
        ({"sample_rows": 0}, "sample_rows"),
        ({"background_rows": 0}, "background_rows"),
    ],
)
def test_bad_shap_arguments_are_named(options: dict[str, Any], message: str) -> None:
    X, _ = _numeric(rows=10, features=2)
    with pytest.raises(InvalidArgument, match=message):
        shap_explanation(None, lambda frame: frame["f0"].to_numpy(), X, **options)


def test_an_empty_frame_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="at least one row"):
        shap_explanation(None, lambda frame: np.zeros(len(frame)), pd.DataFrame({"a": []}))
