"""The LightGBM flavor: the booster's text format, plus what the wrapper needs.

LightGBM saves a booster as text. A scikit-learn wrapper (``LGBMClassifier``
...) is more than its booster: the classifier maps class indices back to
the original labels. The manifest keeps the wrapper's class, its
JSON-representable parameters, its objective and its labels, and loading
rebuilds the same wrapper around the loaded booster, so ``predict`` returns
labels as before.

LightGBM aborts the whole process (not an exception) on some malformed
files, so the text is checked for its structure in Python before LightGBM
sees it: every tree block where ``tree_sizes`` says it is, and the
``end of trees`` marker after them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from loopml.core.errors import InvalidArgument
from loopml.models._flavor import (
    LoadOptions,
    Native,
    Saved,
    SaveOptions,
    library_error,
    qualified_name,
)
from loopml.models._manifest import inside

FLAVOR = "lightgbm"
MODEL_FILE = "model.lgb"
BOOSTER = "lightgbm.basic.Booster"
WRAPPERS = {
    "lightgbm.sklearn.LGBMClassifier": "LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor": "LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker": "LGBMRanker",
}
_TREE_NUMBERS = frozenset(
    {
        "num_leaves",
        "num_cat",
        "split_feature",
        "split_gain",
        "threshold",
        "decision_type",
        "left_child",
        "right_child",
        "leaf_value",
        "leaf_weight",
        "leaf_count",
        "internal_value",
        "internal_weight",
        "internal_count",
        "cat_boundaries",
        "cat_threshold",
        "is_linear",
        "shrinkage",
    }
)


def save(model: Any, folder: Path, options: SaveOptions) -> Saved:
    import lightgbm

    name = qualified_name(type(model))
    if name != BOOSTER and name not in WRAPPERS:
        raise InvalidArgument(
            f"The lightgbm flavor saves a Booster or LightGBM's own wrappers "
            f"({', '.join(WRAPPERS.values())}), not {name}: save model.booster_, or use "
            "python_function."
        )
    conf: dict[str, Any] = {
        "data": MODEL_FILE,
        "model_class": name,
        "lgb_version": lightgbm.__version__,
        "code": None,
    }
    try:
        booster = model if name == BOOSTER else model.booster_
        booster.save_model(str(folder / MODEL_FILE))
    except Exception as exc:  # LightGBMError, or a wrapper that was never fitted
        raise InvalidArgument(f"LightGBM cannot save this {type(model).__name__}: {exc}") from exc
    if name != BOOSTER:
        conf["sklearn_wrapper"] = _wrapper_state(model)
    requirements = {"lightgbm": lightgbm.__version__}
    # MLflow reads a booster file as is; for a wrapper (which MLflow pickles) loopml loads it.
    pyfunc = {"loader_module": "mlflow.lightgbm", "data": MODEL_FILE} if name == BOOSTER else {}
    return Saved(conf, requirements, pyfunc, None, model.predict)


def _wrapper_state(model: Any) -> dict[str, Any]:
    params = {k: v for k, v in model.get_params(deep=False).items() if _json_safe(v)}
    objective = model.objective_ if isinstance(model.objective_, str) else None
    state: dict[str, Any] = {
        "params": params,
        "objective": objective,
        "fitted_with_feature_names": bool(getattr(model, "_fitted_with_feature_names", False)),
    }
    classes = getattr(model, "_classes", None)
    if classes is not None:
        labels = np.asarray(classes)
        if labels.dtype.kind not in "biufUO":
            raise InvalidArgument(f"Cannot record class labels of dtype {labels.dtype}.")
        state["classes"] = labels.tolist()
        state["classes_dtype"] = labels.dtype.str if labels.dtype.kind != "O" else "object"
        if not _json_safe(state["classes"]):
            raise InvalidArgument("The classifier's labels must be numbers, booleans or strings.")
    return state


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def load(folder: Path, conf: Mapping[str, Any], options: LoadOptions) -> Native:
    import lightgbm

    model_class = str(conf.get("model_class") or BOOSTER)
    if model_class != BOOSTER and model_class not in WRAPPERS:
        raise InvalidArgument(
            f"The model names class {model_class!r}; loopml rebuilds only a LightGBM Booster "
            f"or {', '.join(sorted(WRAPPERS))}."
        )
    path = inside(folder, conf.get("data") or MODEL_FILE, "model file")
    text = read_model_text(path)
    try:
        booster = lightgbm.Booster(model_str=text)
    except Exception as exc:  # LightGBMError
        raise library_error(path, exc, "LightGBM model") from exc
    if model_class == BOOSTER:
        return Native(booster, booster.predict)
    state = conf.get("sklearn_wrapper")
    if not isinstance(state, Mapping):
        raise InvalidArgument(
            f"The model says it is a {model_class} but its manifest lacks the wrapper's state."
        )
    model = _rebuild(getattr(lightgbm, WRAPPERS[model_class]), booster, state)
    return Native(model, model.predict, getattr(model, "predict_proba", None))


def _rebuild(cls: type, booster: Any, state: Mapping[str, Any]) -> Any:
    from sklearn.preprocessing import LabelEncoder

    params = state.get("params") or {}
    try:
        model = cls(**params)
    except TypeError as exc:
        raise InvalidArgument(f"The recorded parameters do not fit {cls.__name__}: {exc}") from exc
    # The attributes LightGBM's fit() sets (lightgbm/sklearn.py); tests pin them.
    model._Booster = booster
    model._n_features = booster.num_feature()
    model._n_features_in = booster.num_feature()
    model._fitted_with_feature_names = bool(state.get("fitted_with_feature_names"))
    model._evals_result = {}
    model._best_iteration = booster.best_iteration
    model._best_score = {}
    model._objective = state.get("objective")
    model.fitted_ = True
    if "classes" in state:
        dtype = state.get("classes_dtype") or None
        labels = np.asarray(state["classes"], dtype=None if dtype == "object" else dtype)
        encoder = LabelEncoder().fit(labels)
        model._le = encoder
        model._classes = encoder.classes_
        model._n_classes = len(encoder.classes_)
        model._class_map = dict(
            zip(encoder.classes_, encoder.transform(encoder.classes_), strict=True)
        )
    return model


def read_model_text(path: Path) -> str:
    """The model text, once its structure is checked (LightGBM aborts on a broken one)."""
    if not path.is_file():
        raise InvalidArgument(f"Model file {path.name!r} is missing from {str(path.parent)!r}.")
    data = path.read_bytes()
    problem = _structure_problem(data)
    if problem:
        raise library_error(path, ValueError(problem), "LightGBM model text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise library_error(path, exc, "LightGBM model text") from exc


def _structure_problem(data: bytes) -> str | None:
    # tree_sizes counts bytes, so the check works on bytes.
    if not data.startswith(b"tree\n"):
        return "it does not start with the 'tree' header"
    start = data.find(b"\nTree=0\n")
    end = data.find(b"\nend of trees")
    if start < 0 or end < start:
        return "its trees or the 'end of trees' marker are missing"
    header = data[:start]
    sizes_line = next((ln for ln in header.splitlines() if ln.startswith(b"tree_sizes=")), None)
    position = start + 1
    if sizes_line is None:
        return _tail_problem(data[end:])
    try:
        sizes = [int(s) for s in sizes_line.removeprefix(b"tree_sizes=").split()]
    except ValueError:
        return "its tree_sizes line is malformed"
    for index, size in enumerate(sizes):
        block = data[position : position + size]
        if len(block) != size or not block.startswith(b"Tree=%d\n" % index):
            return f"tree {index} is not where tree_sizes says"
        problem = _tree_problem(block, index)
        if problem:
            return problem
        position += size
    if not data[position:].lstrip(b"\n").startswith(b"end of trees"):
        return "there is more between the trees and 'end of trees' than tree_sizes says"
    return _tail_problem(data[end:])


def _tail_problem(tail: bytes) -> str | None:
    # LightGBM reads the parameters block up to its end marker and crashes when it is cut.
    start = tail.find(b"\nparameters:\n")
    if start >= 0 and tail.find(b"\nend of parameters\n", start) < 0:
        return "its parameters block is cut short (no 'end of parameters')"
    return None


def _tree_problem(block: bytes, index: int) -> str | None:
    for line in block.splitlines()[1:]:
        if not line:
            continue
        key, sep, value = line.partition(b"=")
        if not sep:
            return f"tree {index} has a malformed line"
        if key.decode("ascii", "replace") in _TREE_NUMBERS:
            try:
                for item in value.split():
                    float(item)
            except ValueError:
                return f"tree {index} has a non-numeric {key.decode('ascii', 'replace')}"
    return None
