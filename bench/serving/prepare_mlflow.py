"""Save the benchmark's model with MLflow; runs in the anchor venv (mlflow-sklearn).

    bench/.venvs/mlflow-sklearn/bin/python bench/serving/prepare_mlflow.py WORK_DIR

Loads ``WORK_DIR/model.skops`` (written moments ago by ``prepare_loopml.py``
in this same benchmark run: our own bytes, so its types are trusted as
listed) and saves it with ``mlflow.sklearn.save_model`` and the same 5-row
input example into ``WORK_DIR/mlflow-model``. The requirements are given so
the save skips MLflow's inference of them; ``--env-manager local`` never
reads them. Writes ``WORK_DIR/mlflow.json``: MLflow's version and the loaded
object's predictions on the request rows, to show the hand-over kept the
model exact.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import mlflow
import mlflow.sklearn
import pandas as pd
import skops.io


def main() -> None:
    work = Path(sys.argv[1])
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    skops_file = work / "model.skops"
    model = skops.io.load(skops_file, trusted=skops.io.get_untrusted_types(file=skops_file))
    requests = json.loads((work / "requests.json").read_text())
    rows = pd.DataFrame(requests["rows"], columns=requests["columns"])
    mlflow.sklearn.save_model(
        model,
        str(work / "mlflow-model"),
        input_example=rows.head(5),
        pip_requirements=["scikit-learn", "skops"],
    )
    result = {"mlflow_version": mlflow.__version__, "predictions": model.predict(rows).tolist()}
    (work / "mlflow.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
