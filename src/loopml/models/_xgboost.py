"""The XGBoost flavor: the library's own UBJSON model format.

XGBoost's ``save_model`` keeps the trees and, for the scikit-learn wrappers,
their attributes; the manifest records which class saved it so the same
class comes back (``XGBClassifier`` predicts labels, a ``Booster`` raw
scores). Only XGBoost's own classes are rebuilt: the class name in a
manifest is data, never an import path to follow.

The entry uses the keys of MLflow's xgboost flavor (``data``,
``model_class``, ``model_format``), so the two read each other's models.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.models._flavor import (
    LoadOptions,
    Native,
    Saved,
    SaveOptions,
    library_error,
    qualified_name,
)
from loopml.models._manifest import inside

FLAVOR = "xgboost"
MODEL_FILE = "model.ubj"
CLASSES = {
    "xgboost.sklearn.XGBClassifier": "XGBClassifier",
    "xgboost.sklearn.XGBRegressor": "XGBRegressor",
    "xgboost.sklearn.XGBRanker": "XGBRanker",
    "xgboost.sklearn.XGBRFClassifier": "XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor": "XGBRFRegressor",
    "xgboost.core.Booster": "Booster",
}


def save(model: Any, folder: Path, options: SaveOptions) -> Saved:
    import xgboost

    name = qualified_name(type(model))
    if name not in CLASSES:
        raise InvalidArgument(
            f"The xgboost flavor saves XGBoost's own classes ({', '.join(CLASSES.values())}), "
            f"not {name}: save its booster (model.get_booster()), or use python_function."
        )
    try:
        model.save_model(str(folder / MODEL_FILE))
    except Exception as exc:  # XGBoostError, or a wrapper that was never fitted
        raise InvalidArgument(f"XGBoost cannot save this {type(model).__name__}: {exc}") from exc
    conf = {
        "data": MODEL_FILE,
        "model_class": name,
        "model_format": "ubj",
        "xgb_version": xgboost.__version__,
        "code": None,
    }
    predict = model.inplace_predict if isinstance(model, xgboost.Booster) else model.predict
    pyfunc = {"loader_module": "mlflow.xgboost", "data": MODEL_FILE}  # MLflow reads it as is
    return Saved(conf, {"xgboost": xgboost.__version__}, pyfunc, None, predict)


def load(folder: Path, conf: Mapping[str, Any], options: LoadOptions) -> Native:
    import xgboost

    model_class = str(conf.get("model_class") or "xgboost.core.Booster")
    if model_class not in CLASSES:
        raise InvalidArgument(
            f"The model names class {model_class!r}; loopml rebuilds only XGBoost's own "
            f"classes ({', '.join(sorted(CLASSES))})."
        )
    path = inside(folder, conf.get("data") or MODEL_FILE, "model file")
    if not path.is_file():
        raise InvalidArgument(f"Model file {path.name!r} is missing from {str(folder)!r}.")
    model = getattr(xgboost, CLASSES[model_class])()
    try:
        model.load_model(str(path))
    except Exception as exc:  # XGBoostError carries a C++ stack trace: keep the first line
        raise library_error(path, exc, "XGBoost model") from exc
    if isinstance(model, xgboost.Booster):
        return Native(model, model.inplace_predict)
    proba = getattr(model, "predict_proba", None)
    return Native(model, model.predict, proba)
