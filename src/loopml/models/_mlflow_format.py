"""Loading model folders written by the ``mlflow`` client, without MLflow.

The folder's ``MLmodel`` says the flavor; each is read with loopml's own
readers:

* ``sklearn``: skops files through the same trust rules as loopml's own;
  ``pickle``/``cloudpickle`` files only with ``trust_pickle=True`` (and the
  pickle scan of ``_pickle``);
* ``xgboost``, ``lightgbm`` boosters and ``onnx``: their native files;
  LightGBM's scikit-learn wrappers, which MLflow stores with skops or
  pickle, like ``sklearn``;
* ``python_function`` alone (a pickled ``PythonModel``): ``trust_pickle``,
  then ``load_context`` and ``predict`` as MLflow calls them.

MLflow writes no digests, so a damaged file is found by the reader, whose
errors become ``InvalidArgument`` naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.models import _lightgbm, _onnx, _pyfunc, _sklearn, _xgboost
from loopml.models._flavor import LoadOptions, Native
from loopml.models._manifest import PYFUNC, Manifest, inside
from loopml.models._pickle import load_pickle

SUPPORTED = ("sklearn", "xgboost", "lightgbm", "onnx", PYFUNC)


def load(folder: Path, manifest: Manifest, options: LoadOptions) -> Native:
    """The native model of an MLflow-format folder (InvalidArgument when it cannot be)."""
    flavor, conf = manifest.flavor, manifest.flavor_conf
    pyfunc = manifest.flavors.get(PYFUNC, {})
    if flavor == "sklearn":
        return _sklearn.native(_sklearn_model(folder, conf, pyfunc, options, "scikit-learn"))
    if flavor == "xgboost":
        return _xgboost.load(folder, conf, options)
    if flavor == "lightgbm":
        if conf.get("model_class", _lightgbm.BOOSTER) == _lightgbm.BOOSTER:
            return _lightgbm.load(folder, conf, options)
        model = _sklearn_model(folder, conf, pyfunc, options, "LightGBM", "cloudpickle")
        return Native(model, model.predict, getattr(model, "predict_proba", None))
    if flavor == "onnx":
        return _onnx.load(folder, conf, options)
    if flavor == PYFUNC:
        return _python_model(folder, conf, options)
    raise InvalidArgument(
        f"The model was saved by MLflow with the {flavor!r} flavor, which loopml does not load "
        f"(it loads {', '.join(SUPPORTED)})."
    )


def _sklearn_model(
    folder: Path,
    conf: Mapping[str, Any],
    pyfunc: Mapping[str, Any],
    options: LoadOptions,
    what: str,
    default_format: str = "pickle",
) -> Any:
    data = conf.get("pickled_model") or conf.get("data") or pyfunc.get("model_path")
    if not data:
        raise InvalidArgument("The MLflow model names no model file.")
    path = inside(folder, data, "model file")
    fmt = str(conf.get("serialization_format") or default_format)
    if fmt == "skops":
        return _sklearn.read_skops(path, options.trusted)
    if fmt in ("pickle", "cloudpickle"):
        return load_pickle(path, options.trust_pickle, f"This MLflow {what} model")
    raise InvalidArgument(f"Unknown serialization format {fmt!r} in the MLflow model.")


def _python_model(folder: Path, conf: Mapping[str, Any], options: LoadOptions) -> Native:
    if conf.get("model_code_path"):
        raise InvalidArgument(
            "This MLflow model is defined by a Python file (models from code): loading it runs "
            "that file. loopml does not load such models; use mlflow.pyfunc.load_model."
        )
    python_model = conf.get("python_model")
    if not python_model:
        loader = conf.get("loader_module")
        raise InvalidArgument(
            f"This MLflow python_function model is loaded by module {loader!r}, which loopml "
            "does not run."
        )
    path = inside(folder, python_model, "python model file")
    if conf.get("code"):
        _pyfunc.use_code(inside(folder, conf["code"], "code folder"))
    instance = load_pickle(path, options.trust_pickle, "This MLflow python_function model")
    artifacts = {}
    for name, entry in (conf.get("artifacts") or {}).items():
        relative = entry.get("path") if isinstance(entry, Mapping) else entry
        artifacts[str(name)] = str(inside(folder, relative, f"artifact {name!r}"))
    context = _pyfunc.PythonModelContext(artifacts, dict(conf.get("model_config") or {}))
    if not callable(getattr(instance, "predict", None)):
        raise InvalidArgument(f"The unpickled {type(instance).__name__} has no predict method.")
    return _pyfunc.start(instance, context)
