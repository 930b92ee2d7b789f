"""Fit the benchmark's model once and save it for loopml; runs in the project venv.

    .venv/bin/python bench/serving/prepare_loopml.py WORK_DIR

The model is the packaging benchmark's (``bench/models/_cases.py``: seeded
StandardScaler + LogisticRegression on 10,000 rows x 20 features), fitted
here once and written twice:

    WORK_DIR/loopml-model   loopml.models.save_model(..., onnx=True): signature
                            from 5 rows, and the ONNX conversion verified on them
    WORK_DIR/loopml-model-plain   the same without onnx=True (the server
                            converts in the background at its first start)
    WORK_DIR/model.skops    the same fitted object, for the MLflow side to
                            load and save with mlflow.sklearn.save_model

so both servers hold the very same coefficients, not two fits. Also writes
WORK_DIR/requests.json: the column names, ROWS distinct single-row inputs
the load generator cycles through, and the model's own predictions on them
(what both servers must answer).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import skops.io

from loopml import models

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))
from _cases import data, pipeline

ROWS = 200


def main() -> None:
    work = Path(sys.argv[1])
    x, y = data()
    model = pipeline(x, y)
    models.save_model(model, work / "loopml-model", input_example=x.head(5), onnx=True)
    models.save_model(model, work / "loopml-model-plain", input_example=x.head(5))
    skops.io.dump(model, work / "model.skops")
    sample = x.iloc[:ROWS]
    requests = {
        "loopml_version": version("loopml"),
        "columns": list(sample.columns),
        "rows": sample.to_numpy().tolist(),
        "expected": model.predict(sample).tolist(),
    }
    (work / "requests.json").write_text(json.dumps(requests))


if __name__ == "__main__":
    main()
