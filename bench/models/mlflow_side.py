"""The MLflow side of the model packaging benchmark; runs in the anchor venv.

    bench/.venvs/mlflow-sklearn/bin/python bench/models/mlflow_side.py OUT_JSON WORK_DIR

``mlflow.sklearn.save_model`` with MLflow's defaults (skops in 3.17.2,
requirements inferred), ``mlflow.pyfunc.load_model`` and
``PyFuncModel.predict`` (signature enforced). With ``--pinned`` the
requirements are given (``pip_requirements``), which skips MLflow's
inference of them: the floor of its save.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import pandas as pd
from _cases import main

PINNED = "--pinned" in sys.argv
if PINNED:
    sys.argv.remove("--pinned")


class MlflowPackager:
    name = "mlflow"
    version = mlflow.__version__

    def __init__(self) -> None:
        logging.getLogger("mlflow").setLevel(logging.ERROR)

    def save(self, model: Any, path: Path, example: pd.DataFrame) -> None:
        extra = {"pip_requirements": ["scikit-learn", "skops"]} if PINNED else {}
        mlflow.sklearn.save_model(model, str(path), input_example=example, **extra)

    def load(self, path: Path) -> Any:
        return mlflow.pyfunc.load_model(str(path))


if __name__ == "__main__":
    main(MlflowPackager())
