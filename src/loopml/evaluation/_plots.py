"""Evaluation plots as PNG bytes: confusion matrix, calibration, ROC, residuals, importances.

Drawn on bare ``matplotlib.figure.Figure`` objects with the Agg renderer, never
pyplot: pyplot's global state is not thread-safe (a server evaluates in
threads) and would change the user's backend. Figures are small (about 5 x 4
inches at 100 dpi) so they fit a pull request comment and a run's artifacts.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

DPI = 100
MAX_POINTS = 5000
MAX_BARS = 20


def confusion_matrix_png(confusion: Mapping[str, Any]) -> bytes:
    """The confusion matrix (from ``_metrics.confusion``) as a heat map with counts in the cells."""
    labels = [str(label) for label in confusion.get("labels", [])]
    matrix = np.asarray(confusion.get("matrix", []), dtype=float).reshape(len(labels), len(labels))
    size = min(4 + 0.3 * len(labels), 12)
    figure = Figure(figsize=(size + 1, size))
    axes = figure.add_subplot(1, 1, 1)
    if labels:
        image = axes.imshow(matrix, cmap="Blues", vmin=0)
        figure.colorbar(image, ax=axes, label="rows")
    else:
        _empty(axes)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    if len(labels) <= 20:  # beyond that the numbers would not be legible
        threshold = matrix.max() / 2 if matrix.size else 0
        for (row, column), value in np.ndenumerate(matrix):
            colour = "white" if value > threshold else "black"
            axes.text(column, row, f"{int(value)}", ha="center", va="center", color=colour)
    axes.set_xlabel("predicted label")
    axes.set_ylabel("true label")
    axes.set_title("Confusion matrix")
    return _png(figure)


def calibration_png(calibration: Mapping[str, Sequence[float]]) -> bytes:
    """The reliability diagram (from ``_metrics.calibration``) against the calibrated diagonal."""
    figure = Figure(figsize=(5, 4))
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    predicted, observed = calibration.get("prob_pred", []), calibration.get("prob_true", [])
    axes.plot(predicted, observed, marker="o", color="#1f77b4", label="model")
    if not predicted:
        _empty(axes)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("mean predicted probability (positive class)")
    axes.set_ylabel("fraction of positives")
    axes.set_title("Calibration curve")
    axes.legend(loc="upper left")
    return _png(figure)


def roc_png(y_true: Any, proba_positive: Any, positive: Any) -> bytes:
    """The ROC curve of the positive class with its area; a note when one class is missing."""
    from sklearn.metrics import roc_auc_score, roc_curve

    truth = np.asarray(y_true) == positive
    scores = np.asarray(proba_positive, dtype=float)
    figure = Figure(figsize=(5, 4))
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    if truth.all() or not truth.any():
        _empty(axes, "ROC undefined: only one class present")
    else:
        fpr, tpr, _ = roc_curve(truth, scores)
        auc = roc_auc_score(truth, scores)
        axes.plot(fpr, tpr, color="#1f77b4", label=f"model (AUC = {auc:.3f})")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title(f"ROC curve (positive: {positive})")
    axes.legend(loc="lower right")
    return _png(figure)


def residuals_png(y_true: Any, y_pred: Any) -> bytes:
    """Residuals (true - predicted) against predictions, and their histogram.

    At most 5,000 points are drawn (a seeded sample); the histogram uses every row.
    """
    truth, predicted = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    residuals = truth - predicted
    shown = np.arange(len(residuals))
    if len(shown) > MAX_POINTS:
        shown = np.sort(np.random.default_rng(0).choice(len(shown), MAX_POINTS, replace=False))
    figure = Figure(figsize=(9, 4))
    scatter, histogram = figure.subplots(1, 2)
    scatter.scatter(predicted[shown], residuals[shown], s=6, alpha=0.5, color="#1f77b4")
    scatter.axhline(0, color="grey", linestyle="--")
    scatter.set_xlabel("predicted value")
    scatter.set_ylabel("residual (true - predicted)")
    title = "Residuals vs predicted"
    scatter.set_title(title if len(shown) == len(residuals) else f"{title} (sample)")
    if len(residuals):
        histogram.hist(residuals, bins=min(50, max(5, len(residuals) // 10)), color="#2ca02c")
    else:
        _empty(histogram)
    histogram.set_xlabel("residual (true - predicted)")
    histogram.set_ylabel("rows")
    histogram.set_title("Residual distribution")
    return _png(figure)


def importance_png(
    names: Sequence[str],
    values: Sequence[float],
    title: str,
    errors: Sequence[float] | None = None,
) -> bytes:
    """Horizontal bars of the 20 largest importances, largest on top, with optional error bars."""
    order = np.argsort(-np.asarray(values, dtype=float), kind="stable")[:MAX_BARS][::-1]
    labels = [str(names[i]) for i in order]
    figure = Figure(figsize=(6, 1.2 + 0.3 * max(len(order), 4)))
    axes = figure.add_subplot(1, 1, 1)
    xerr = None if errors is None else [float(errors[i]) for i in order]
    positions = np.arange(len(labels))  # positions, not names: two equal names keep two bars
    axes.barh(positions, [float(values[i]) for i in order], xerr=xerr, color="#1f77b4")
    axes.set_yticks(positions, labels)
    if not labels:
        _empty(axes)
    axes.set_xlabel("importance")
    axes.set_ylabel("feature")
    axes.set_title(title)
    return _png(figure)


def _empty(axes: Any, text: str = "no data") -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="grey")


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
