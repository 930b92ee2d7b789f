"""The five-step pipeline of the benchmark (a module: worker processes import it).

load -> clean -> features -> (train, and evaluate on the features and the
model): a DataFrame, a DataFrame, an array, a fitted model and a dict of
metrics, so the cached re-run reads back each kind of stored output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from loopml.pipelines import pipeline, step


@step
def load(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4))
    return pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(
        y=x @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(scale=0.1, size=rows)
    )


@step
def clean(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.dropna().reset_index(drop=True)


@step
def features(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([frame[["a", "b", "c", "d"]].to_numpy(), frame["y"].to_numpy()])


@step
def train(table: np.ndarray, alpha: float) -> Ridge:
    return Ridge(alpha=alpha).fit(table[:, :4], table[:, 4])


@step
def evaluate(table: np.ndarray, model: Ridge) -> dict[str, float]:
    error = model.predict(table[:, :4]) - table[:, 4]
    return {"mse": float(np.mean(error**2))}


@pipeline
def five_steps(rows: int = 20_000, alpha: float = 0.1) -> None:
    table = features(clean(load(rows)))
    evaluate(table, train(table, alpha))
