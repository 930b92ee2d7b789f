"""``autolog()``: log every scikit-learn, XGBoost and LightGBM fit without code.

``fit`` is patched where each estimator class defines it. Only the
outermost fit of a thread logs: a Pipeline's steps, a search's candidate
fits and a wrapper calling ``super().fit`` run unlogged inside it. The
outermost fit logs, as MLflow's autolog does:

* the estimator's parameters (``get_params(deep=False)``, as strings);
* training metrics on the fitted data, prefixed ``training_``
  (classifiers: accuracy, weighted precision/recall/F1, log loss and ROC
  AUC when there are probabilities; regressors: MSE, RMSE, MAE, R²; both:
  the estimator's own ``score``);
* tags ``estimator_name`` and ``estimator_class``;
* the fitted model under artifact path ``model``, with a signature inferred
  from the first rows of ``X``.

A run is started when none is active and ended after the fit. Logging never
breaks the user's fit: what fails to log becomes a warning.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.clock import now_ms
from loopml.models._log import log_model
from loopml.store import Metric, Param, RunTag
from loopml.tracking import active_run, end_run, get_client, start_run

MODEL_ARTIFACT_PATH = "model"
_METHOD = "fit"
EXAMPLE_ROWS = 5
_MAX_PARAM_VALUE = 6000

_lock = threading.Lock()
_patched: dict[tuple[type, str], Any] = {}
_settings = {"log_models": True}


class _Depth(threading.local):
    def __init__(self) -> None:
        self.value = 0


_depth = _Depth()


def autolog(disable: bool = False, log_models: bool = True) -> None:
    """Log params, training metrics and the model of every estimator fit from now on.

    Covers scikit-learn's estimators (``sklearn.utils.all_estimators``) and,
    when installed, XGBoost's and LightGBM's scikit-learn wrappers.
    ``disable=True`` puts the original ``fit`` methods back.
    """
    with _lock:
        if disable:
            for (cls, name), original in _patched.items():
                setattr(cls, name, original)
            _patched.clear()
            return
        _settings["log_models"] = bool(log_models)
        if _patched:
            return
        for cls in _fit_owners():
            original = cls.__dict__[_METHOD]
            _patched[(cls, _METHOD)] = original
            setattr(cls, _METHOD, _wrap(original))


def _fit_owners() -> list[type]:
    """Each class that defines the ``fit`` an estimator uses (once per class)."""
    owners: dict[type, None] = {}
    for estimator in _estimator_classes():
        for cls in estimator.__mro__:
            if "fit" in cls.__dict__:
                owners.setdefault(cls, None)
                break
    return list(owners)


def _estimator_classes() -> Iterator[type]:
    from sklearn.utils import all_estimators

    for _, cls in all_estimators():
        yield cls
    try:
        import xgboost

        yield from (xgboost.XGBModel, xgboost.XGBClassifier, xgboost.XGBRegressor)
        yield from (xgboost.XGBRanker, xgboost.XGBRFClassifier, xgboost.XGBRFRegressor)
    except ImportError:
        pass
    try:
        import lightgbm

        yield from (lightgbm.LGBMModel, lightgbm.LGBMClassifier, lightgbm.LGBMRegressor)
        yield lightgbm.LGBMRanker
    except ImportError:
        pass


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _depth.value or not _patched:
            return original(self, *args, **kwargs)
        _depth.value += 1
        try:
            return _fit_and_log(original, self, args, kwargs)
        finally:
            _depth.value -= 1

    return fit


def _fit_and_log(original: Callable[..., Any], estimator: Any, args: tuple, kwargs: dict) -> Any:
    started = None
    run_id = None
    try:
        if active_run() is None:
            started = start_run()
        run = active_run()
        assert run is not None
        run_id = run.info.run_id
        _log_params(run_id, estimator)
    except Exception as exc:
        _warn("start the run or log the parameters", exc)
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException:
        if started is not None and active_run() is started:
            end_run("FAILED")
        raise
    if run_id is not None:
        try:
            _log_results(run_id, estimator, args, kwargs)
        except Exception as exc:
            _warn("log the fit's results", exc)
    if started is not None and active_run() is started:
        try:
            end_run()
        except Exception as exc:
            _warn("end the run", exc)
    return result


def _warn(what: str, exc: BaseException) -> None:
    warnings.warn(f"loopml autolog could not {what}: {exc}", UserWarning, stacklevel=4)


def _log_params(run_id: str, estimator: Any) -> None:
    params = [
        Param(key, str(value)[:_MAX_PARAM_VALUE])
        for key, value in estimator.get_params(deep=False).items()
    ]
    cls = type(estimator)
    tags = [
        RunTag("estimator_name", cls.__name__),
        RunTag("estimator_class", f"{cls.__module__}.{cls.__qualname__}"),
    ]
    get_client().log_batch(run_id, params=params, tags=tags)


def _log_results(run_id: str, estimator: Any, args: tuple, kwargs: dict) -> None:
    x = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    if x is not None and y is not None:
        metrics = training_metrics(estimator, x, y, kwargs.get("sample_weight"))
        when = now_ms()
        points = [Metric(k, v, when, 0) for k, v in metrics.items() if math.isfinite(v)]
        if points:
            get_client().log_batch(run_id, metrics=points)
    if _settings["log_models"]:
        example = _example_rows(x)
        log_model(
            estimator,
            MODEL_ARTIFACT_PATH,
            input_example=example,
            client=get_client(),
            run_id=run_id,
        )


def _example_rows(x: Any) -> Any:
    if isinstance(x, pd.DataFrame):
        return x.iloc[:EXAMPLE_ROWS]
    if isinstance(x, np.ndarray):
        return x[:EXAMPLE_ROWS]
    if isinstance(x, list | tuple):
        return np.asarray(x[:EXAMPLE_ROWS])
    return None  # sparse matrices and the like: no example, no inferred signature


def _weighted(fn: Callable[..., Any], y: Any, predicted: Any, weight: dict[str, Any]) -> Any:
    return fn(y, predicted, average="weighted", zero_division=0, **weight)


def training_metrics(estimator: Any, x: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    """MLflow's training metrics for a fitted classifier or regressor (others: score only)."""
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    found: dict[str, float] = {}

    def record(name: str, compute: Callable[[], Any]) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found[f"training_{name}"] = float(compute())
        except Exception:  # a metric that does not apply (one class, no score ...) is skipped
            pass

    weight = {"sample_weight": sample_weight} if sample_weight is not None else {}
    if is_classifier(estimator):
        predicted = estimator.predict(x)
        record("accuracy_score", lambda: metrics.accuracy_score(y, predicted, **weight))
        averaged: list[tuple[str, Callable[..., Any]]] = [
            ("precision_score", metrics.precision_score),
            ("recall_score", metrics.recall_score),
            ("f1_score", metrics.f1_score),
        ]
        for name, fn in averaged:
            record(name, functools.partial(_weighted, fn, y, predicted, weight))
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(x)
            labels = getattr(estimator, "classes_", None)
            record("log_loss", lambda: metrics.log_loss(y, proba, labels=labels, **weight))
            if proba.shape[1] == 2:
                record("roc_auc", lambda: metrics.roc_auc_score(y, proba[:, 1], **weight))
            else:
                record(
                    "roc_auc",
                    lambda: metrics.roc_auc_score(
                        y, proba, multi_class="ovr", average="weighted", labels=labels, **weight
                    ),
                )
    elif is_regressor(estimator):
        predicted = estimator.predict(x)
        record("mean_squared_error", lambda: metrics.mean_squared_error(y, predicted, **weight))
        record(
            "root_mean_squared_error",
            lambda: math.sqrt(metrics.mean_squared_error(y, predicted, **weight)),
        )
        record("mean_absolute_error", lambda: metrics.mean_absolute_error(y, predicted, **weight))
        record("r2_score", lambda: metrics.r2_score(y, predicted, **weight))
    if hasattr(estimator, "score"):
        record("score", lambda: estimator.score(x, y, **weight))
    return found
