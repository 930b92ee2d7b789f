"""``evaluate``: one call from a model and a dataset to metrics, slices, fairness, importance.

What users of ``mlflow.evaluate`` expect, plus what they glue on by hand:
per-slice metrics, fairlearn's differences, SHAP, and deltas against the model
in production on the same rows. A part that cannot be computed (an
unsupported explainer, a slice with no rows, a single sensitive group)
becomes a notice and the rest still completes; only input the evaluation
cannot start from (no target column, no rows, a model that cannot predict on
the data) is an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loopml._model_fluent import load_model
from loopml.core.errors import InvalidArgument, LoopmlError, NotFound
from loopml.evaluation import _plots
from loopml.evaluation._explaining import explain
from loopml.evaluation._fairness import fairness_report
from loopml.evaluation._metrics import calibration, confusion, positive_label, residual_summary
from loopml.evaluation._record import log_evaluation
from loopml.evaluation._result import Comparison, Evaluation
from loopml.evaluation._scoring import Scored, model_inputs, score, slice_metrics
from loopml.evaluation._slices import parse_slices, slice_mask
from loopml.models import LoadedModel, signature_problems
from loopml.store import DatasetVersion
from loopml.store.dataset_records import DATASET_SCHEME
from loopml.tracking import Client, active_run, get_client
from loopml.validation import load_frame

TASKS = ("classification", "regression")
ModelLike = LoadedModel | str | os.PathLike[str]


def evaluate(
    model: ModelLike,
    data: pd.DataFrame | str | os.PathLike[str] | DatasetVersion,
    *,
    target: str,
    task: str | None = None,
    slices: Sequence[str | Mapping[str, Any]] = (),
    sensitive_features: Sequence[str] = (),
    baseline: ModelLike | None = None,
    explain_model: bool = True,
    permutation_repeats: int = 5,
    shap_rows: int = 30,
    log: bool | None = None,
    run_id: str | None = None,
    trust_pickle: bool = False,
    client: Client | None = None,
) -> Evaluation:
    """Evaluate ``model`` on ``data`` (a DataFrame, a CSV/Parquet path or a dataset version).

    ``task`` is inferred when None: classification for a model with
    ``predict_proba`` or a non-numeric target, else regression. ``baseline``
    (for example ``"models:/churn@champion"``) is scored on the same rows and
    the result carries its metrics and the deltas; a baseline alias that does
    not exist yet is a notice, not an error. Results are logged to ``run_id``,
    or to the active run, unless ``log=False``.
    """
    client = client if client is not None else get_client()
    frame = _frame(data, target, client)
    candidate, name = _load(model, client, trust_pickle)
    notices: list[str] = []
    frame = _labelled(frame, target, notices)
    y_true = frame[target].to_numpy()
    task = _task(task, candidate, frame[target])
    X = model_inputs(candidate, frame, target)
    scored = score(candidate, X, y_true, task)
    parsed = [(s, slice_mask(s, frame)) for s in parse_slices(list(slices), frame)]
    for slice_, mask in parsed:
        if not mask.any():
            notices.append(f"slice {slice_.name!r} matches no rows; it has no metrics")
    evaluation = Evaluation(
        model=name,
        task=task,
        target=target,
        rows=len(frame),
        metrics=dict(scored.metrics),
        classes=scored.classes,
        slices=slice_metrics(scored, task, y_true, parsed),
        latency=dict(scored.latency),
        signature=None if candidate.signature is None else candidate.signature.to_dict(),
        notices=notices,
        data={"rows": len(frame), "columns": [str(c) for c in frame.columns]},
    )
    _details(evaluation, scored, y_true)
    if sensitive_features:
        evaluation.fairness = _fairness(frame, sensitive_features, scored, y_true, task, notices)
    if explain_model:
        explain(evaluation, candidate, X, y_true, scored, permutation_repeats, shap_rows)
    if baseline is not None:
        evaluation.baseline = _compare(
            baseline,
            frame,
            target,
            y_true,
            task,
            parsed,
            scored,
            candidate,
            evaluation,
            client,
            trust_pickle,
        )
    target_run = run_id or _active_run_id()
    if log is True and target_run is None:
        raise InvalidArgument("log=True needs a run: pass run_id or call inside lm.start_run().")
    if target_run is not None and log is not False:
        log_evaluation(client, target_run, evaluation)
    return evaluation


def _active_run_id() -> str | None:
    run = active_run()
    return None if run is None else run.info.run_id


def _frame(data: Any, target: str, client: Client) -> pd.DataFrame:
    if isinstance(data, DatasetVersion) or (
        isinstance(data, str) and data.startswith(DATASET_SCHEME)
    ):
        from loopml.datasets import Datasets

        frame = Datasets(client).read_frame(data)
    else:
        frame = load_frame(data)
    if not isinstance(target, str) or target not in frame.columns:
        raise InvalidArgument(
            f"The data has no target column {target!r} "
            f"(columns: {', '.join(map(str, frame.columns))}): pass target=<the label column>."
        )
    return frame


def _labelled(frame: pd.DataFrame, target: str, notices: list[str]) -> pd.DataFrame:
    missing = int(frame[target].isna().sum())
    if missing:
        frame = frame[frame[target].notna()].reset_index(drop=True)
        notices.append(f"{missing} rows without a {target!r} value were left out")
    if frame.empty:
        raise InvalidArgument(f"No rows to evaluate: the data has no row with a {target!r} value.")
    return frame


def _load(model: ModelLike, client: Client, trust_pickle: bool) -> tuple[LoadedModel, str]:
    if isinstance(model, LoadedModel):
        return model, str(model.path)
    if not isinstance(model, str | os.PathLike):
        raise InvalidArgument(
            f"Cannot evaluate a {type(model).__name__}: pass a model URI "
            "(models:/name@alias, runs:/id/model), a model folder or a loaded model."
        )
    uri = os.fspath(model)
    return load_model(uri, client=client, trust_pickle=trust_pickle), uri


def _task(task: str | None, model: LoadedModel, labels: pd.Series) -> str:
    if task is None:
        numeric = pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels)
        return "classification" if model.has_predict_proba or not numeric else "regression"
    if task not in TASKS:
        raise InvalidArgument(f"Unknown task {task!r}: use 'classification' or 'regression'.")
    return task


def _details(evaluation: Evaluation, scored: Scored, y_true: np.ndarray) -> None:
    """Confusion matrix, calibration and residuals, and their plots."""
    plots = evaluation.plots
    if evaluation.task == "regression":
        evaluation.details["residuals"] = residual_summary(y_true, scored.y_pred)
        plots["residuals.png"] = _plots.residuals_png(y_true, scored.y_pred)
        return
    classes = scored.classes or []
    matrix = confusion(y_true, scored.y_pred, classes)
    evaluation.details["confusion_matrix"] = matrix
    plots["confusion_matrix.png"] = _plots.confusion_matrix_png(matrix)
    if scored.proba is not None and len(classes) == 2:
        positive = positive_label(classes)
        column = scored.proba[:, classes.index(positive)]
        curve = calibration(y_true, column, positive)
        evaluation.details["calibration"] = curve
        evaluation.details["positive_label"] = positive
        plots["calibration.png"] = _plots.calibration_png(curve)
        if len(pd.unique(y_true)) == 2:
            plots["roc.png"] = _plots.roc_png(y_true, column, positive)


def _fairness(
    frame: pd.DataFrame,
    features: Sequence[str],
    scored: Scored,
    y_true: np.ndarray,
    task: str,
    notices: list[str],
) -> dict[str, Any]:
    names = [features] if isinstance(features, str) else list(features)
    missing = [f for f in names if f not in frame.columns]
    if missing:
        raise InvalidArgument(
            f"The data has no sensitive feature column {missing[0]!r} "
            f"(columns: {', '.join(map(str, frame.columns))})."
        )
    classes = scored.classes or []
    positive = positive_label(classes) if len(classes) == 2 else None
    report = fairness_report(y_true, scored.y_pred, frame[names], task, positive)
    for feature, entry in report.items():
        notices.extend(f"fairness of {feature!r}: {n}" for n in entry.get("notices", []))
    return report


def _compare(
    baseline: ModelLike,
    frame: pd.DataFrame,
    target: str,
    y_true: np.ndarray,
    task: str,
    slices: Sequence[Any],
    scored: Scored,
    candidate: LoadedModel,
    evaluation: Evaluation,
    client: Client,
    trust_pickle: bool,
) -> Comparison | None:
    label = str(baseline.path) if isinstance(baseline, LoadedModel) else os.fspath(baseline)
    try:
        model, label = _load(baseline, client, trust_pickle)
    except NotFound as exc:
        evaluation.notices.append(f"no baseline to compare with: {exc.message}")
        return None
    problems = signature_problems(model.signature, candidate.signature)
    comparison = Comparison(model=label, metrics={}, deltas={}, signature_problems=problems)
    try:
        base = score(model, model_inputs(model, frame, target), y_true, task, who="baseline")
    except LoopmlError as exc:
        evaluation.notices.append(f"the baseline was not scored: {exc.message}")
        return comparison
    comparison.metrics = dict(base.metrics)
    comparison.latency = dict(base.latency)
    comparison.deltas = _deltas(scored.metrics, base.metrics)
    for name, entry in slice_metrics(base, task, y_true, slices).items():
        mine = evaluation.slices.get(name, {}).get("metrics", {})
        comparison.slices[name] = {
            "metrics": entry["metrics"],
            "deltas": _deltas(mine, entry["metrics"]),
        }
    return comparison


def _deltas(
    candidate: Mapping[str, float | None], baseline: Mapping[str, float | None]
) -> dict[str, float | None]:
    deltas: dict[str, float | None] = {}
    for key, value in candidate.items():
        other = baseline.get(key)
        if key == "rows" or value is None or other is None:
            continue
        deltas[key] = float(value) - float(other)
    return deltas
