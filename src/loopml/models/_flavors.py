"""The flavor modules by name, and which flavor a Python object is."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.models import _lightgbm, _onnx, _pyfunc, _sklearn, _xgboost
from loopml.models._flavor import qualified_name

FLAVORS: dict[str, ModuleType] = {
    _sklearn.FLAVOR: _sklearn,
    _xgboost.FLAVOR: _xgboost,
    _lightgbm.FLAVOR: _lightgbm,
    _onnx.FLAVOR: _onnx,
    _pyfunc.FLAVOR: _pyfunc,
}


def flavor_module(name: str) -> ModuleType:
    """The module of flavor ``name``; InvalidArgument listing the known ones."""
    module = FLAVORS.get(name)
    if module is None:
        raise InvalidArgument(
            f"Unknown flavor {name!r}: loopml knows {', '.join(sorted(FLAVORS))}."
        )
    return module


def detect_flavor(model: Any) -> str:
    """The flavor that saves ``model``, judged by its class (nothing is imported)."""
    if isinstance(model, bytes | bytearray) or (
        isinstance(model, str | Path) and str(model).endswith(".onnx")
    ):
        return _onnx.FLAVOR
    names = {qualified_name(c) for c in type(model).__mro__}
    if "onnx.onnx_ml_pb2.ModelProto" in names or type(model).__name__ == "ModelProto":
        return _onnx.FLAVOR
    if names & set(_xgboost.CLASSES) or "xgboost.sklearn.XGBModel" in names:
        return _xgboost.FLAVOR
    if names & (set(_lightgbm.WRAPPERS) | {_lightgbm.BOOSTER, "lightgbm.sklearn.LGBMModel"}):
        return _lightgbm.FLAVOR
    if "sklearn.base.BaseEstimator" in names:
        return _sklearn.FLAVOR
    if callable(getattr(model, "predict", None)):
        return _pyfunc.FLAVOR
    raise InvalidArgument(
        f"Cannot tell how to save a {type(model).__name__}: pass flavor= one of "
        f"{', '.join(sorted(FLAVORS))} (a class with a predict method is a python_function)."
    )
