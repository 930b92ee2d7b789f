"""The quickstart: a small, real training loop tracked end to end.

It trains a few scikit-learn models on a dataset that ships with
scikit-learn (no download), logging params, per-fold and per-epoch metrics,
tags, a plot and a text report for each. Later subsystems extend it into the
whole loop (register, serve, monitor, retrain).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.store import Metric, Param, RunTag
from loopml.tracking import Client

EXPERIMENT = "quickstart"
MODEL_COUNT = 5
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class QuickstartRun:
    run_id: str
    name: str
    accuracy: float
    f1: float
    artifacts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuickstartResult:
    experiment_id: str
    tracking_uri: str
    object_store_uri: str
    runs: tuple[QuickstartRun, ...]


def _require_extras() -> None:
    missing = [m for m in ("sklearn", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise InvalidArgument(
            f"The quickstart needs {', '.join(missing)}: pip install 'loopml[quickstart]'."
        )


def _candidates() -> list[tuple[str, Any, dict[str, Any]]]:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    return [
        ("logreg-c0.1", LogisticRegression(C=0.1, max_iter=2000), {"model": "logreg", "C": 0.1}),
        ("logreg-c10", LogisticRegression(C=10.0, max_iter=2000), {"model": "logreg", "C": 10.0}),
        (
            "forest-100",
            RandomForestClassifier(n_estimators=100, max_depth=6, random_state=0, n_jobs=2),
            {"model": "random_forest", "n_estimators": 100, "max_depth": 6},
        ),
        (
            "boosting-50",
            GradientBoostingClassifier(n_estimators=50, random_state=0),
            {"model": "gradient_boosting", "n_estimators": 50},
        ),
        (
            "sgd-epochs",
            SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0),
            {"model": "sgd", "alpha": 1e-4, "epochs": 20},
        ),
    ]


def run_quickstart(client: Client, progress: Progress | None = None) -> QuickstartResult:
    """Train and track the quickstart models; return where everything went."""
    _require_extras()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import (
        ConfusionMatrixDisplay,
        accuracy_score,
        classification_report,
        f1_score,
        log_loss,
    )
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    experiment = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(EXPERIMENT, tags={"purpose": "loopml quickstart"})
    )
    results = []
    for name, estimator, params in _candidates():
        if progress:
            progress(name)
        run = client.create_run(
            experiment_id, run_name=name, tags={"dataset": "breast_cancer", "team": "quickstart"}
        )
        run_id = run.info.run_id
        client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
        model = make_pipeline(StandardScaler(), estimator)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        fold_metrics = []
        for fold, (fit_idx, val_idx) in enumerate(folds.split(x_train, y_train)):
            model.fit(x_train[fit_idx], y_train[fit_idx])
            score = accuracy_score(y_train[val_idx], model.predict(x_train[val_idx]))
            fold_metrics.append(Metric("cv_accuracy", float(score), now_ms(), fold))
        if params["model"] == "sgd":
            fold_metrics += _epochs(
                model, x_train, y_train, x_test, y_test, params["epochs"], log_loss
            )
        else:
            model.fit(x_train, y_train)
        predicted = model.predict(x_test)
        accuracy = float(accuracy_score(y_test, predicted))
        f1 = float(f1_score(y_test, predicted))
        final = [Metric("accuracy", accuracy, now_ms(), 0), Metric("f1", f1, now_ms(), 0)]
        client.log_batch(run_id, metrics=fold_metrics + final, tags=[RunTag("stage", "candidate")])
        report = classification_report(y_test, predicted, target_names=list(data.target_names))
        client.log_text(run_id, report, "reports/classification_report.txt")
        figure, axes = plt.subplots(figsize=(4, 4))
        ConfusionMatrixDisplay.from_predictions(
            y_test, predicted, display_labels=list(data.target_names), ax=axes, colorbar=False
        )
        axes.set_title(name)
        figure.tight_layout()
        client.log_figure(run_id, figure, "plots/confusion_matrix.png")
        plt.close(figure)
        client.set_terminated(run_id)
        paths = tuple(f.path for f in client.store.list_artifact_entries(run_id))
        results.append(QuickstartRun(run_id, name, accuracy, f1, paths))
    return QuickstartResult(
        experiment_id, client.tracking_uri, client.object_store_uri, tuple(results)
    )


def _epochs(
    model: Any, x_train: Any, y_train: Any, x_test: Any, y_test: Any, epochs: int, log_loss: Any
) -> list[Metric]:
    """Train the SGD pipeline epoch by epoch, logging loss and accuracy per epoch."""
    scaler, sgd = model.steps[0][1], model.steps[-1][1]
    scaled_train = scaler.fit_transform(x_train)
    scaled_test = scaler.transform(x_test)
    classes = np.unique(y_train)
    points = []
    for epoch in range(epochs):
        sgd.partial_fit(scaled_train, y_train, classes=classes)
        loss = log_loss(y_test, sgd.predict_proba(scaled_test))
        accuracy = float((sgd.predict(scaled_test) == y_test).mean())
        points.append(Metric("val_loss", float(loss), now_ms(), epoch))
        points.append(Metric("val_accuracy", accuracy, now_ms(), epoch))
    return points
