"""Why a model predicts what it does: permutation importance and SHAP values.

Pure functions over frames and callables: no model loading, no tracking.
``permutation_importance`` treats the model as a black box, so it works for
any flavor. ``shap_explanation`` uses shap's exact ``TreeExplainer`` when the
native object is a tree model fed all-numeric columns, and otherwise a sampled
permutation explainer over the ``predict`` callable, which sees frames with
the original columns and dtypes (strings, categories) rebuilt from shap's
numeric arrays. Whatever shap cannot explain becomes ``ExplainerUnsupported``
with a reason a person can read, never a raw traceback.

shap is imported on first use: it is slow to import and only some
evaluations ask for it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument

Predict = Callable[[pd.DataFrame], Any]

OUTPUTS = ("auto", "probability", "prediction")
_PERMUTATIONS = 3  # per explained row, in the sampled explainer
_ATOL = 1e-4  # how close the explained sum must come to the model's own output

# The native tree models shap's TreeExplainer reads, by module family and class name.
_TREE_MODELS = {
    "sklearn": {
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
    },
    "xgboost": {"XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor", "Booster"},
    "lightgbm": {"LGBMClassifier", "LGBMRegressor", "Booster"},
}


def permutation_importance(
    predict: Predict,
    X: pd.DataFrame,
    y: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    *,
    greater_is_better: bool = True,
    n_repeats: int = 5,
    max_rows: int = 5000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """How much ``score`` drops when one column's values are shuffled, per column.

    Works for any model: ``predict`` is a black box over a frame with X's
    columns and dtypes, called once on the intact rows and once per feature
    per repeat. At most ``max_rows`` rows (a seeded sample) are used so the
    cost stays bounded on large sets. The importance is oriented so that
    larger means more important whatever the direction of ``score``; a
    non-finite score gives ``nan``. Returns
    ``[{"feature", "importance_mean", "importance_std"}]``, most important
    first, ``nan`` last.
    """
    truth = np.asarray(y)
    if len(X) == 0:
        raise InvalidArgument("permutation importance needs at least one row")
    if len(truth) != len(X):
        raise InvalidArgument(
            f"permutation importance: y has {len(truth)} values but X has {len(X)} rows"
        )
    if n_repeats < 1:
        raise InvalidArgument(f"permutation importance: n_repeats must be >= 1, got {n_repeats}")
    if max_rows < 1:
        raise InvalidArgument(f"permutation importance: max_rows must be >= 1, got {max_rows}")
    rng = np.random.default_rng(seed)
    if len(X) > max_rows:
        keep = np.sort(rng.choice(len(X), size=max_rows, replace=False))
        X, truth = X.iloc[keep], truth[keep]
    frame = X.reset_index(drop=True)
    sign = 1.0 if greater_is_better else -1.0
    baseline = _finite(score(truth, np.asarray(predict(frame))))
    importances: list[tuple[str, float, float]] = []
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]  # a Series keeps category, string and nullable dtypes
        drops = []
        for _ in range(n_repeats):
            shuffled = frame.copy(deep=False)
            permuted = values.iloc[rng.permutation(len(frame))].set_axis(frame.index)
            shuffled.isetitem(position, permuted)
            drops.append(sign * (baseline - _finite(score(truth, np.asarray(predict(shuffled))))))
        importances.append((str(column), _finite(np.mean(drops)), _finite(np.std(drops))))
    importances.sort(key=lambda item: (math.isnan(item[1]), -item[1]))
    return [
        {"feature": name, "importance_mean": mean, "importance_std": std}
        for name, mean, std in importances
    ]


@dataclass(frozen=True)
class ShapExplanation:
    """SHAP values for a sample of rows, one number per feature per row.

    ``kind`` is ``"tree"`` (shap's exact TreeExplainer on the native model)
    or ``"sampled"`` (a permutation explainer over ``predict``). ``output``
    names the quantity explained, for which ``base_value + sum(contributions)``
    equals the model's value on that row: ``"probability"`` (the positive
    class's probability of a binary classifier), ``"raw"`` (a tree model's
    margin, e.g. the positive class's log-odds for a boosted classifier) or
    ``"prediction"`` (the value the ``predict`` callable returns: the
    regression prediction, or whatever the caller chose to explain).
    ``global_importance`` is the mean absolute SHAP value per feature over
    the explained rows, largest first.
    """

    kind: str
    features: list[str]
    global_importance: list[tuple[str, float]]
    rows: list[dict[str, Any]]
    output: str = "prediction"
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document: plain floats, strings and lists only."""
        return {
            "kind": self.kind,
            "output": self.output,
            "features": list(self.features),
            "global_importance": [
                {"feature": name, "mean_abs_shap": value} for name, value in self.global_importance
            ],
            "rows": [dict(row) for row in self.rows],
            "notices": list(self.notices),
        }


class ExplainerUnsupported(Exception):
    """shap cannot explain this model or output; the message says why, for a notice."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TreeFailed(Exception):
    """The tree path did not work for this model; the sampled explainer takes over."""


def shap_explanation(
    model: Any,
    predict: Predict,
    X: pd.DataFrame,
    *,
    sample_rows: int = 100,
    background_rows: int = 50,
    seed: int = 0,
    output: str = "auto",
) -> ShapExplanation:
    """SHAP values for ``sample_rows`` seeded rows of ``X``.

    ``model`` is the native object (estimator, pipeline, booster, anything);
    ``predict`` maps a frame with X's columns to one number per row (for a
    binary classifier, the positive class's probability). ``output``:

    - ``"auto"``: a supported tree model on all-numeric columns is explained
      exactly by TreeExplainer in its own output space (probability for
      forests, margin for boosted classifiers, the prediction for regressors),
      for the class whose probability ``predict`` returns; anything else, a
      multiclass tree model included, by the sampled explainer over
      ``predict`` against ``background_rows`` seeded rows.
    - ``"probability"``: like auto, but a tree classifier is explained in
      probability space (interventional TreeExplainer over the background).
    - ``"prediction"``: always the sampled explainer over ``predict``.

    Raises ``ExplainerUnsupported`` when ``predict`` fails or returns
    something other than one number per row, or shap fails.
    """
    if output not in OUTPUTS:
        raise InvalidArgument(f"shap output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    if len(X) == 0:
        raise InvalidArgument("a SHAP explanation needs at least one row")
    if len(X.columns) == 0:
        raise InvalidArgument("a SHAP explanation needs at least one feature column")
    if sample_rows < 1 or background_rows < 1:
        raise InvalidArgument(
            f"sample_rows and background_rows must be >= 1, got {sample_rows} and {background_rows}"
        )
    sample = _sample(X, sample_rows, seed)
    background = _sample(X, background_rows, seed + 1)
    reference = _scores(predict, sample)
    notices: list[str] = []
    if output != "prediction" and _is_tree_model(model) and _all_numeric(X):
        try:
            return _tree(model, sample, background, reference, probability=output == "probability")
        except _TreeFailed as exc:
            notices.append(f"the tree explainer did not apply ({exc}); used the sampled explainer")
    explanation = _sampled(predict, sample, background, seed)
    label = "probability" if output == "probability" else "prediction"
    return replace(explanation, output=label, notices=notices)


def _tree(
    model: Any,
    sample: pd.DataFrame,
    background: pd.DataFrame,
    reference: np.ndarray,
    *,
    probability: bool,
) -> ShapExplanation:
    shap = _import_shap()
    positive, proba = _positive_proba(model, sample, reference)
    with _quiet():
        try:
            if probability and proba is not None:
                explainer = shap.TreeExplainer(
                    model,
                    data=background,
                    feature_perturbation="interventional",
                    model_output="probability",
                )
            else:
                explainer = shap.TreeExplainer(model)
            explained = explainer(sample)
        except Exception as exc:  # shap's own errors are many and unexported
            raise _TreeFailed(f"{type(exc).__name__}: {exc}") from exc
    values = np.asarray(explained.values, dtype=float)
    base = np.asarray(explained.base_values, dtype=float).reshape(len(values), -1)
    if values.ndim == 3 and values.shape[2] == 2 and proba is not None:
        values, base = values[:, :, positive], base[:, positive]
    elif values.ndim == 3 and values.shape[2] == 1:
        values, base = values[:, :, 0], base[:, 0]
    elif values.ndim == 2 and base.shape[1] == 1:
        base = base[:, 0]
        if proba is not None and positive == 0:
            # one output describes class 1; class 0's is its complement (1 - p, or -log-odds)
            complement = np.allclose(base + values.sum(axis=1), 1.0 - proba, atol=_ATOL)
            values, base = -values, (1.0 - base) if complement else -base
    else:
        raise _TreeFailed(f"the model has {values.shape[-1]} outputs; explaining one needs predict")
    total = base + values.sum(axis=1)
    if proba is not None:
        output = "probability" if np.allclose(total, proba, atol=_ATOL) else "raw"
    else:
        output = "prediction" if np.allclose(total, reference, atol=_ATOL) else "raw"
    if probability and output != "probability":
        raise _TreeFailed("the tree explainer does not give this model's probability")
    return _explanation("tree", output, sample, values, base)


def _positive_proba(
    model: Any, sample: pd.DataFrame, reference: np.ndarray
) -> tuple[int, np.ndarray | None]:
    """For a binary classifier: the predict_proba column ``predict`` returns, and its values.

    Column 1 (the second class) unless ``predict`` returns column 0; ``None``
    values when the model has no two-column ``predict_proba`` on this input.
    """
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2 or not hasattr(model, "predict_proba"):
        return 1, None
    try:
        with _quiet():
            table = np.asarray(model.predict_proba(sample), dtype=float)
    except Exception:  # the native object may want another input form; judge by predict then
        return 1, None
    if table.ndim != 2 or table.shape[1] != 2:
        return 1, None
    first = np.allclose(table[:, 0], reference, atol=1e-6)
    positive = 0 if first and not np.allclose(table[:, 1], reference, atol=1e-6) else 1
    return positive, table[:, positive]


def _sampled(
    predict: Predict, sample: pd.DataFrame, background: pd.DataFrame, seed: int
) -> ShapExplanation:
    """A permutation explainer over integer codes of each column's values.

    shap masks by mixing rows of numeric arrays, which strings and categories
    cannot go through; each column's values are replaced by codes and the
    frame ``predict`` sees is rebuilt from them with the original dtypes.
    """
    shap = _import_shap()
    codec = _Codec(pd.concat([background, sample]))
    n_features = len(sample.columns)

    def model(codes: np.ndarray) -> np.ndarray:
        return _scores(predict, codec.decode(codes))

    # each permutation (run forward and back) is exact in sum; more of them lower the variance
    # but cost one predict call per explained row each
    max_evals = _PERMUTATIONS * (2 * n_features + 1)
    state = np.random.get_state()  # shap seeds NumPy's global generator; give it back
    try:
        with _quiet():
            masker = shap.maskers.Independent(
                codec.encode(slice(0, len(background))), max_samples=len(background)
            )
            explainer = shap.PermutationExplainer(model, masker, seed=seed)
            explained = explainer(
                codec.encode(slice(len(background), None)),
                max_evals=max_evals,
                batch_size=max_evals,
                silent=True,
            )
    except ExplainerUnsupported:
        raise
    except Exception as exc:
        raise ExplainerUnsupported(
            f"the sampled explainer failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        np.random.set_state(state)
    values = np.asarray(explained.values, dtype=float)
    base = np.broadcast_to(np.asarray(explained.base_values, dtype=float), values.shape[:1])
    return _explanation("sampled", "prediction", sample, values, base)


class _Codec:
    """Each column's values as integer codes and back, keeping the column's dtype."""

    def __init__(self, pool: pd.DataFrame) -> None:
        self._columns = pool.columns
        self._uniques: list[Any] = []  # per column: its distinct values, as an array of its dtype
        codes = []
        for position in range(len(pool.columns)):
            column = pool.iloc[:, position]
            numbers, _ = pd.factorize(column, use_na_sentinel=False)
            first = np.unique(numbers, return_index=True)[1]  # the first row holding each code
            self._uniques.append(column.array.take(first))
            codes.append(numbers)
        self._codes = np.column_stack(codes).astype(float)

    def encode(self, rows: slice) -> np.ndarray:
        """The codes of a range of the pool's rows."""
        return self._codes[rows]

    def decode(self, codes: np.ndarray) -> pd.DataFrame:
        """The frame whose values the codes stand for, with the pool's columns and dtypes."""
        integer = np.rint(np.atleast_2d(codes)).astype(np.intp)
        frame = pd.DataFrame(
            {
                position: uniques.take(integer[:, position])
                for position, uniques in enumerate(self._uniques)
            }
        )
        frame.columns = self._columns
        return frame


def _explanation(
    kind: str, output: str, sample: pd.DataFrame, values: np.ndarray, base: np.ndarray
) -> ShapExplanation:
    features = [str(column) for column in sample.columns]
    mean_abs = np.abs(values).mean(axis=0)
    order = sorted(range(len(features)), key=lambda i: -mean_abs[i])
    rows = [
        {
            "row": _label(label),
            "base_value": float(base[i]),
            "contributions": {name: float(values[i, j]) for j, name in enumerate(features)},
        }
        for i, label in enumerate(sample.index)
    ]
    return ShapExplanation(
        kind=kind,
        features=features,
        global_importance=[(features[i], float(mean_abs[i])) for i in order],
        rows=rows,
        output=output,
    )


def _scores(predict: Predict, frame: pd.DataFrame) -> np.ndarray:
    """One float per row from ``predict``, or ExplainerUnsupported saying what came back."""
    try:
        with _quiet():
            raw = np.asarray(predict(frame))
    except Exception as exc:
        raise ExplainerUnsupported(f"predict failed: {type(exc).__name__}: {exc}") from exc
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.ndim != 1 or len(raw) != len(frame):
        raise ExplainerUnsupported(
            f"predict must return one number per row to be explained, got shape {raw.shape}"
        )
    if raw.dtype.kind not in "biuf":
        raise ExplainerUnsupported(
            f"predict returns non-numeric values (dtype {raw.dtype}); SHAP explains a number "
            "such as a probability or a regression output"
        )
    return raw.astype(float)


def _is_tree_model(model: Any) -> bool:
    family = type(model).__module__.split(".", 1)[0]
    return type(model).__name__ in _TREE_MODELS.get(family, set())


def _all_numeric(X: pd.DataFrame) -> bool:
    return all(pd.api.types.is_numeric_dtype(dtype) for dtype in X.dtypes)


def _sample(X: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most ``rows`` seeded rows of X, in X's order."""
    if len(X) <= rows:
        return X
    keep = np.sort(np.random.default_rng(seed).choice(len(X), size=rows, replace=False))
    return X.iloc[keep]


def _label(label: Any) -> Any:
    """A row's index label as JSON can hold it."""
    if isinstance(label, np.generic):
        label = label.item()
    return label if isinstance(label, str | int | float | bool) else str(label)


def _finite(value: Any) -> float:
    number = float(value)
    return number if math.isfinite(number) else float("nan")


def _import_shap() -> Any:
    with _quiet():
        import shap
    return shap


@contextmanager
def _quiet() -> Iterator[None]:
    """shap and the model libraries warn freely; an evaluation reports through notices."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
