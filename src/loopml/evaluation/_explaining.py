"""Explaining the candidate: permutation importance always, SHAP when it can.

Explanations are the part of an evaluation most likely to meet a model they
cannot handle; whatever fails here becomes a notice, never a failed
evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import LoopmlError
from loopml.evaluation import _plots
from loopml.evaluation._explain import (
    ExplainerUnsupported,
    permutation_importance,
    shap_explanation,
)
from loopml.evaluation._metrics import positive_label
from loopml.evaluation._result import Evaluation
from loopml.evaluation._scoring import Scored, task_metrics
from loopml.models import LoadedModel

PERMUTATION_SCORES = {"classification": "accuracy", "regression": "r2"}


def explain(
    evaluation: Evaluation,
    model: LoadedModel,
    X: pd.DataFrame,
    y_true: np.ndarray,
    scored: Scored,
    repeats: int,
    shap_rows: int,
) -> None:
    """Fill ``evaluation.explanations`` (and its importance plots) from the candidate."""
    task = evaluation.task
    metric = PERMUTATION_SCORES[task]

    def score(truth: np.ndarray, predicted: np.ndarray) -> float:
        return float(task_metrics(task, truth, predicted, None, scored.classes)[metric])

    try:
        importance = permutation_importance(
            lambda frame: np.asarray(model.predict(frame)).ravel(),
            X,
            y_true,
            score,
            n_repeats=repeats,
        )
    except (LoopmlError, ValueError, TypeError) as exc:
        evaluation.notices.append(f"permutation importance was not computed: {exc}")
    else:
        evaluation.explanations["permutation"] = {"metric": metric, "features": importance}
        evaluation.plots["importance_permutation.png"] = _plots.importance_png(
            [row["feature"] for row in importance],
            [row["importance_mean"] for row in importance],
            f"Permutation importance (drop in {metric})",
            errors=[row["importance_std"] for row in importance],
        )
    if shap_rows <= 0:
        return
    try:
        output = _shap_output(model, scored)
        shap = shap_explanation(model.raw, output, X, sample_rows=shap_rows, background_rows=25)
    except ExplainerUnsupported as exc:
        evaluation.notices.append(f"SHAP values were not computed: {exc}")
        return
    except Exception as exc:  # shap fails in many ways on models it half-supports
        evaluation.notices.append(f"SHAP values were not computed: {type(exc).__name__}: {exc}")
        return
    evaluation.explanations["shap"] = shap.to_dict()
    names = [name for name, _ in shap.global_importance]
    values = [value for _, value in shap.global_importance]
    evaluation.plots["importance_shap.png"] = _plots.importance_png(
        names, values, "Mean |SHAP value|"
    )


def _shap_output(model: LoadedModel, scored: Scored) -> Callable[[pd.DataFrame], Any]:
    """What SHAP explains: a binary classifier's positive-class probability, else predict.

    A multiclass classifier has no one number per row worth explaining (its
    label codes are not an output), so it is left to permutation importance.
    """
    classes = scored.classes or []
    if scored.proba is not None and len(classes) == 2:
        column = classes.index(positive_label(classes))
        return lambda frame: np.asarray(model.predict_proba(frame))[:, column]
    if scored.classes is not None and len(classes) != 2:
        raise ExplainerUnsupported(
            f"a classifier of {len(classes)} classes has no single output to explain; "
            "see the permutation importance"
        )
    return lambda frame: np.asarray(model.predict(frame)).ravel()
