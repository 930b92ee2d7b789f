"""Steps and pipelines of the pipeline tests (a module, so worker processes import them).

Steps that take ``marks`` append their name to ``<marks>/<name>`` each time
they really run, so a test can count executions (cache hits leave no mark).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import loopml as lm
from loopml.pipelines import pipeline, step


def mark(marks: str, name: str) -> None:
    if marks:
        with open(Path(marks) / name, "a") as file:
            file.write("x")


def runs_of(marks: Path, name: str) -> int:
    path = marks / name
    return len(path.read_text()) if path.exists() else 0


# -- a five-step training pipeline ---------------------------------------------------------


@step
def load(rows: int, marks: str = "") -> pd.DataFrame:
    mark(marks, "load")
    print(f"loading {rows} rows")
    x = np.linspace(0.0, 1.0, rows)
    return pd.DataFrame({"x": x, "y": 3.0 * x + 1.0})


@step
def features(frame: pd.DataFrame, marks: str = "") -> pd.DataFrame:
    mark(marks, "features")
    return frame.assign(x2=frame["x"] ** 2)


@step(outputs=("train", "test"))
def split(frame: pd.DataFrame, marks: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    mark(marks, "split")
    cut = int(len(frame) * 0.8)
    return frame.iloc[:cut], frame.iloc[cut:]


@step
def fit(train: pd.DataFrame, alpha: float, marks: str = "") -> np.ndarray:
    mark(marks, "fit")
    design = np.column_stack([np.ones(len(train)), train["x"], train["x2"]])
    ridge = alpha * np.eye(3)
    lm.log_metric("train_rows", len(train))
    return np.linalg.solve(design.T @ design + ridge, design.T @ train["y"].to_numpy())


@step
def evaluate(coefficients: np.ndarray, test: pd.DataFrame, marks: str = "") -> dict[str, float]:
    mark(marks, "evaluate")
    design = np.column_stack([np.ones(len(test)), test["x"], test["x2"]])
    error = float(np.mean((design @ coefficients - test["y"].to_numpy()) ** 2))
    lm.log_metric("mse", error)
    return {"mse": error}


@pipeline
def training(rows: int = 50, alpha: float = 0.01, marks: str = "") -> None:
    frame = features(load(rows, marks), marks)
    train, test = split(frame, marks)
    evaluate(fit(train, alpha, marks), test, marks)


# -- failures ----------------------------------------------------------------------------


@step
def one(marks: str = "") -> int:
    mark(marks, "one")
    return 1


@step
def explode(value: int, marks: str = "") -> int:
    mark(marks, "explode")
    print("about to fail")
    raise ValueError(f"cannot handle {value}")


@step
def after_explode(value: int) -> int:
    return value + 1


@step
def independent(marks: str = "") -> str:
    mark(marks, "independent")
    return "fine"


@pipeline
def branches(marks: str = "") -> None:
    after_explode(explode(one(marks), marks))
    independent(marks)


@step(retries=2, retry_delay=0.2)
def flaky(marks: str, failures: int) -> str:
    mark(marks, "flaky")
    if runs_of(Path(marks), "flaky") <= failures:
        raise RuntimeError("not yet")
    return "made it"


@pipeline
def retrying(marks: str = "", failures: int = 1) -> None:
    flaky(marks, failures)


@step(timeout=1.0, retries=1)
def hang(marks: str, seconds: float) -> str:
    mark(marks, "hang")
    print("hanging", flush=True)
    time.sleep(seconds)
    return "woke up"


@pipeline
def hanging(marks: str = "", seconds: float = 60.0) -> None:
    after_explode(hang(marks, seconds))
    independent(marks)


class Opaque:
    def __init__(self, value: int) -> None:
        self.value = value


@step
def opaque() -> Any:
    return Opaque(3)


@step
def consume(value: Any) -> int:
    return 1


@pipeline
def unstorable() -> None:
    consume(opaque())


@step(allow_pickle=True)
def pickled() -> Any:
    return Opaque(4)


@step
def unwrap(value: Any) -> int:
    return int(value.value)


@pipeline
def pickling() -> None:
    unwrap(pickled())


# -- output types ------------------------------------------------------------------------


@step(outputs=("frame", "series", "array", "scalar", "data", "raw"))
def every_type() -> tuple[Any, ...]:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]}, index=[10, 20, 30])
    series = pd.Series([0.5, 1.5], name="weights")
    return (
        frame,
        series,
        np.arange(6, dtype=np.int32).reshape(2, 3),
        np.float32(2.5),
        {"nested": [1, 2.5, None, "s"], "ok": True},
        b"\x00\x01bytes",
    )


@step
def model() -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])


@step
def predict(fitted: Any) -> list[float]:
    return [float(v) for v in fitted.predict([[3.0]])]


@pipeline
def types() -> None:
    every_type()
    predict(model())


@step(cache=False)
def always(marks: str) -> int:
    mark(marks, "always")
    return 1


@pipeline
def uncached(marks: str = "") -> None:
    always(marks)
    one(marks)


@step
def interrupted() -> None:
    raise KeyboardInterrupt


@pipeline
def stopped() -> None:
    consume(interrupted())
