"""Train the churn model, record its data and files in loopml, and write its URI.

The run records the training data as a dataset version (context
"training"), so `loopml ci report` can say what changed in the data since the
model in production was trained. ``CHURN_MAX_DEPTH`` and ``CHURN_TREES`` change the model (a PR
would change this file instead); the URI of the logged model goes to
``<out>/model_uri`` for the next CI steps.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import loopml as lm

FEATURES = ["tenure_months", "monthly_charges", "support_tickets", "plan", "country", "age"]
CATEGORICAL = ["plan", "country"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="training CSV")
    parser.add_argument("--out", type=Path, required=True, help="folder for model_uri")
    args = parser.parse_args()
    frame = pd.read_csv(args.data)
    depth = int(os.environ.get("CHURN_MAX_DEPTH", "3"))
    trees = int(os.environ.get("CHURN_TREES", "60"))
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
                    remainder="passthrough",
                ),
            ),
            (
                "classify",
                GradientBoostingClassifier(max_depth=depth, n_estimators=trees, random_state=0),
            ),
        ]
    )
    lm.set_experiment("churn-ci")
    with lm.start_run(run_name=f"gbm-depth-{depth}") as run:
        lm.log_params({"max_depth": depth, "n_estimators": trees, "rows": len(frame)})
        version = lm.register_dataset("churn-train", args.data)
        lm.log_input(version, context="training")
        model.fit(frame[FEATURES], frame["churned"])
        info = lm.log_model(model, "model", input_example=frame[FEATURES].head(5))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "model_uri").write_text(info.model_uri + "\n", encoding="utf-8")
    print(f"run {run.info.run_id}: logged {info.model_uri}")


if __name__ == "__main__":
    main()
