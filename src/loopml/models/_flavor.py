"""What every flavor module provides, and the options passed to it.

A flavor module (``_sklearn``, ``_xgboost``, ``_lightgbm``, ``_onnx``,
``_pyfunc``) has two functions:

* ``save(model, folder, options) -> Saved``: write the model's files into
  ``folder`` and say what goes into the manifest;
* ``load(folder, conf, options) -> Native``: read them back into the native
  object and the callables that predict with it.

The libraries (scikit-learn, skops, XGBoost, LightGBM, ONNX Runtime) are
imported inside these functions: they are optional, and importing
``loopml.models`` must not pay for the ones a program never uses. Each
flavor translates its library's errors into ``InvalidArgument`` naming the
file, at this one seam.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.models._signature import Signature


@dataclass(frozen=True, slots=True)
class SaveOptions:
    """Flavor-specific inputs of ``save_model`` (only python_function uses them today)."""

    code_paths: Sequence[str | Path] = ()
    artifacts: Mapping[str, str | Path] = field(default_factory=dict)
    init_kwargs: Mapping[str, Any] = field(default_factory=dict)
    model_config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """What the caller trusts: extra skops types, and pickles (MLflow's formats)."""

    trusted: tuple[str, ...] = ()
    trust_pickle: bool = False


@dataclass(frozen=True, slots=True)
class Saved:
    """What a flavor wrote: its manifest entry, package versions, python_function keys."""

    conf: dict[str, Any]
    requirements: dict[str, str]
    pyfunc: dict[str, Any] = field(default_factory=dict)
    default_signature: Signature | None = None
    # Predicts with the in-memory model: infers the output schema from the input example.
    predict: Callable[[Any], Any] | None = None


@dataclass(frozen=True, slots=True)
class Native:
    """A loaded model: the library's object and how to predict with it."""

    raw: Any
    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None = None


def library_error(file: Path, exc: BaseException, what: str) -> InvalidArgument:
    """The one message for a model file a library could not read."""
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return InvalidArgument(
        f"Cannot load model file {file.name!r} from {str(file.parent)!r}: it is not a valid "
        f"{what} file ({detail}). It may be truncated or corrupted."
    )


def frame_to_array(data: Any) -> Any:
    """A DataFrame's values as one array; anything else unchanged."""
    return data.to_numpy() if isinstance(data, pd.DataFrame) else data


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
