"""The demo's model recipe, shared by tuning, the first training and the retraining pipeline.

One-hot categories (unknown ones ignored, so a new payment method does not
break serving) and scaled numbers feed a logistic regression or a
histogram gradient-boosted tree ensemble; tuning picks the kind and its
settings, and the retraining pipeline reuses the chosen settings on new data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from loopml.demo._data import CATEGORICAL, FEATURES, NUMERIC, TARGET


def build_model(params: Mapping[str, Any]) -> Any:
    """An unfitted scikit-learn pipeline for ``params`` (``kind`` plus that kind's settings)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    kind = params.get("kind", "logreg")
    estimator: Any
    if kind == "logreg":
        estimator = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=1000)
    elif kind == "boosting":
        estimator = HistGradientBoostingClassifier(
            learning_rate=float(params.get("learning_rate", 0.1)),
            max_depth=int(params.get("max_depth", 3)),
            max_iter=int(params.get("max_iter", 100)),
            random_state=0,
        )
    else:
        raise ValueError(f"Unknown model kind {kind!r}: use 'logreg' or 'boosting'.")
    encode = ColumnTransformer(
        [
            ("numbers", StandardScaler(), list(NUMERIC)),
            ("categories", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
        ]
    )
    return Pipeline([("encode", encode), ("model", estimator)])


def fit(frame: pd.DataFrame, params: Mapping[str, Any]) -> Any:
    """The recipe trained on ``frame`` (features and the ``churned`` label).

    One thread: on a busy two-core machine OpenMP's spinning threads make the
    boosting fit about ten times slower, and these fits take a fraction of a
    second alone.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return build_model(params).fit(frame[list(FEATURES)], frame[TARGET])


def roc_auc(model: Any, frame: pd.DataFrame) -> float:
    """ROC AUC of ``model`` on ``frame``: the demo's one number for "better"."""
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        scores = model.predict_proba(frame[list(FEATURES)])[:, 1]
    return float(roc_auc_score(frame[TARGET], scores))


def suggest(trial: Any) -> dict[str, Any]:
    """Draw one trial's settings from the demo's small search space (Optuna's API)."""
    kind = trial.suggest_categorical("kind", ["logreg", "boosting"])
    if kind == "logreg":
        return {"kind": kind, "C": trial.suggest_float("C", 0.01, 10.0, log=True)}
    return {
        "kind": kind,
        "learning_rate": trial.suggest_float("learning_rate", 0.03, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 5),
        "max_iter": 80,
    }
