"""The model packaging cases, run the same way through loopml and through MLflow.

Shared by ``loopml_side.py`` (project venv) and ``mlflow_side.py`` (the
anchor venv with MLflow and the same scikit-learn). Each side fits the same
pipeline on the same seeded data (StandardScaler + LogisticRegression,
10,000 rows x 20 features), then times, with the same code:

    save      save the fitted pipeline with an input example (median of 5)
    load      load it back as a predicting model (median of 5)
    predict   one-row DataFrame predictions (median and p95 of 200)

One untimed save, load and prediction come first (imports, caches). The
output JSON holds the seconds and the predictions on 50 rows, which must be
equal across the sides:

    python <side>.py OUT_JSON WORK_DIR
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

SEED = 20240601
ROWS = 10_000
FEATURES = 20
SAVE_REPS = 5
LOAD_REPS = 5
PREDICTIONS = 200
CHECK_ROWS = 50


class Packager(Protocol):
    """One model packaging library, as the cases need it."""

    name: str
    version: str

    def save(self, model: Any, path: Path, example: pd.DataFrame) -> None: ...

    def load(self, path: Path) -> Any:
        """A loaded model with ``predict(DataFrame)``."""


def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(SEED)
    x = pd.DataFrame(rng.normal(size=(ROWS, FEATURES)), columns=[f"f{i}" for i in range(FEATURES)])
    weights = rng.normal(size=FEATURES)
    y = (x.to_numpy() @ weights + rng.normal(scale=0.5, size=ROWS) > 0).astype(int)
    return x, y


def pipeline(x: pd.DataFrame, y: np.ndarray) -> Pipeline:
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
    return model.fit(x, y)


def _timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(packager: Packager, work_dir: Path) -> dict[str, Any]:
    x, y = data()
    model = pipeline(x, y)
    example = x.head(5)
    packager.save(model, work_dir / "warm", example)  # imports and caches, untimed
    loaded = packager.load(work_dir / "warm")
    loaded.predict(x.iloc[[0]])

    saves = [
        _timed(lambda i=i: packager.save(model, work_dir / f"save-{i}", example))
        for i in range(SAVE_REPS)
    ]
    loads = [_timed(lambda i=i: packager.load(work_dir / f"save-{i}")) for i in range(LOAD_REPS)]
    loaded = packager.load(work_dir / "save-0")
    rows = [x.iloc[[i]] for i in range(PREDICTIONS)]
    predicts = sorted(_timed(lambda row=row: loaded.predict(row)) for row in rows)
    checks = np.asarray(loaded.predict(x.iloc[:CHECK_ROWS])).tolist()
    return {
        "name": packager.name,
        "version": packager.version,
        "seconds": {
            "save": statistics.median(saves),
            "load": statistics.median(loads),
            "predict_median": statistics.median(predicts),
            "predict_p95": predicts[int(0.95 * len(predicts)) - 1],
        },
        "checks": {
            "predictions": checks,
            "expected": model.predict(x.iloc[:CHECK_ROWS]).tolist(),
        },
    }


def main(packager: Packager) -> None:
    out, work_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_text(json.dumps(run(packager, work_dir)))
