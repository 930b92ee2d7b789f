"""The training pipeline the policy tests run (imported by target ``policy_flows:training``)."""

from __future__ import annotations

import time

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import loopml as lm
from churn_models import FEATURES, classifier
from loopml.datasets import Datasets

NUMERIC_AND_EXTRA = ["tenure", "charges", "tickets", "extra"]


@lm.step
def load(dataset: str) -> pd.DataFrame:
    return Datasets().read_frame(dataset)


@lm.step
def train(frame: pd.DataFrame, weak: bool, extra: bool, sleep: float) -> Pipeline:
    """The churn classifier; ``weak`` predicts the prior only, ``extra`` needs column 'extra'."""
    if sleep:
        time.sleep(sleep)  # long enough for a test to kill the process that trains
    if extra:
        frame = frame.assign(extra=frame["tickets"] * 0.5)  # a column live traffic lacks
        model = Pipeline(
            [
                ("pick", ColumnTransformer([("keep", "passthrough", NUMERIC_AND_EXTRA)])),
                ("model", LogisticRegression(max_iter=500)),
            ]
        ).fit(frame, frame["churned"])
        columns = NUMERIC_AND_EXTRA
    else:
        model, columns = classifier(frame, weak=weak), FEATURES
    # Also logged by the step itself, with an input example: a policy with
    # model_output="model" registers this one, which has a signature.
    lm.log_model(model, "model", input_example=frame[columns].head(5))
    return model


@lm.pipeline
def training(
    dataset: str = "churn-train", weak: bool = False, extra: bool = False, sleep: float = 0.0
) -> None:
    train(load(dataset), weak, extra, sleep)


@lm.pipeline
def broken(dataset: str = "churn-train") -> None:
    train(load(dataset), False, False, "not a number")  # type: ignore[arg-type]
