"""The demo's training pipeline: ``loopml.demo.pipeline:training``.

The automation policy runs it when the drift alert fires. It reads the
newest version of the training dataset (or the ``name@version`` it is
given), records that version as the run's input (so monitoring later
compares live traffic with the data this model learned from), and trains
the demo's recipe with the settings tuning chose.
"""

from __future__ import annotations

from typing import Any

import loopml as lm
from loopml.datasets import Datasets
from loopml.demo._model import fit, roc_auc


@lm.step
def train(
    dataset: str,
    kind: str,
    C: float,
    learning_rate: float,
    max_depth: int,
    max_iter: int,
) -> Any:
    """Train on ``dataset`` (``name`` = its newest version now, or ``name@N``)."""
    from sklearn.model_selection import train_test_split

    datasets = Datasets()
    version = datasets.get(dataset)
    frame = datasets.read_frame(version)
    lm.log_input(version, context="training")
    params = {
        "kind": kind,
        "C": C,
        "learning_rate": learning_rate,
        "max_depth": max_depth,
        "max_iter": max_iter,
    }
    fit_rows, check_rows = train_test_split(frame, test_size=0.2, random_state=0)
    lm.log_metric("validation_roc_auc", roc_auc(fit(fit_rows, params), check_rows))
    lm.set_tag("loopml.demo.dataset", f"{version.name}@{version.version}")
    return fit(frame, params)


@lm.pipeline
def training(
    dataset: str = "churn-train",
    kind: str = "logreg",
    C: float = 1.0,
    learning_rate: float = 0.1,
    max_depth: int = 3,
    max_iter: int = 80,
) -> None:
    """Retrain the churn model on the newest data with the tuned settings."""
    train(dataset, kind, C, learning_rate, max_depth, max_iter)
