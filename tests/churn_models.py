"""Churn-like data and logged models for the evaluation and CI tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import loopml as lm

FEATURES = ["tenure", "charges", "tickets", "plan"]


def churn(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """A binary task: churn rises with charges and tickets, falls with tenure; plan matters."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    charges = rng.normal(70, 20, rows).round(2)
    tickets = rng.poisson(1.2, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
    logit = -0.5 - 0.05 * tenure + 0.03 * (charges - 70) + 0.6 * tickets + (plan == "basic") * 0.8
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "tenure": tenure,
            "charges": charges,
            "tickets": tickets,
            "plan": plan,
            "gender": rng.choice(["f", "m"], rows),
            "age": rng.integers(18, 90, rows),
            "churned": label,
        }
    )


def classifier(frame: pd.DataFrame, *, weak: bool = False) -> Pipeline:
    """One-hot plan + logistic regression; ``weak`` predicts the majority class only."""
    estimator = DummyClassifier(strategy="prior") if weak else LogisticRegression(max_iter=500)
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                    remainder="passthrough",
                ),
            ),
            ("model", estimator),
        ]
    )
    return model.fit(frame[FEATURES], frame["churned"])


def log_classifier(
    frame: pd.DataFrame, *, weak: bool = False, features: list[str] | None = None
) -> str:
    """Train, log in a new run and return the ``runs:/`` URI."""
    columns = features or FEATURES
    model = (
        classifier(frame, weak=weak)
        if features is None
        else LogisticRegression(max_iter=500).fit(frame[columns], frame["churned"])
    )
    with lm.start_run():
        info = lm.log_model(model, "model", input_example=frame[columns].head(5))
    return info.model_uri


def log_regressor(frame: pd.DataFrame) -> str:
    numeric = ["tenure", "tickets"]
    model = LinearRegression().fit(frame[numeric], frame["charges"])
    with lm.start_run():
        info = lm.log_model(model, "model", input_example=frame[numeric].head(5))
    return info.model_uri
