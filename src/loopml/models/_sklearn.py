"""The scikit-learn flavor: saved with skops, never with pickle.

skops stores an estimator as a zip of JSON and arrays, and loading builds
only the types it is told to trust. loopml trusts by default the types of
scikit-learn, NumPy and SciPy (minus the few that read or write files), and
whatever skops trusts itself; anything else (a custom transformer, a
function from another module) is refused with the list of types, until the
caller passes ``trusted=[...]``.

The manifest entry has the keys MLflow's own sklearn flavor reads
(``pickled_model``, ``serialization_format: skops``,
``skops_trusted_types``), so ``mlflow.sklearn.load_model`` opens a loopml
model too.
"""

from __future__ import annotations

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
    frame_to_array,
    library_error,
)
from loopml.models._manifest import inside

FLAVOR = "sklearn"
MODEL_FILE = "model.skops"
TRUSTED_FAMILIES = ("sklearn.", "numpy.", "scipy.")
# Inside the trusted families, names that read or write files or build code are not trusted.
_DENIED_NAMES = frozenset(
    {
        "load",
        "loads",
        "save",
        "savez",
        "savez_compressed",
        "savetxt",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "fromregex",
        "tofile",
        "memmap",
        "open_memmap",
        "loadmat",
        "savemat",
    }
)
_DENIED_MODULES = (
    "numpy.ctypeslib",
    "numpy.f2py",
    "numpy.distutils",
    "numpy.testing",
    "numpy.lib.format",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "scipy.io",
    "sklearn.datasets",
    "sklearn.externals",
    "sklearn.utils._testing",
)


def is_trusted_by_default(type_name: str) -> bool:
    """Whether loopml trusts a skops type name without being told."""
    if not type_name.startswith(TRUSTED_FAMILIES):
        return False
    module, _, name = type_name.rpartition(".")
    if name in _DENIED_NAMES:
        return False
    return not any(module == m or module.startswith(m + ".") for m in _DENIED_MODULES)


def save(model: Any, folder: Path, options: SaveOptions) -> Saved:
    import sklearn
    import skops
    import skops.io as sio

    path = folder / MODEL_FILE
    try:
        sio.dump(model, path)
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops' own error types vary by version: one seam
        raise InvalidArgument(
            f"skops cannot save this {type(model).__name__}: {exc}. Use the python_function "
            "flavor for models skops cannot represent."
        ) from exc
    by_default = sorted(t for t in untrusted if is_trusted_by_default(t))
    conf = {
        "pickled_model": MODEL_FILE,
        "serialization_format": "skops",
        "sklearn_version": sklearn.__version__,
        "skops_trusted_types": by_default or None,
        "untrusted_types": sorted(t for t in untrusted if t not in by_default) or None,
        "code": None,
    }
    requirements = {
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
    }
    # MLflow's own loader reads these files: the plain mlflow client loads the model too.
    pyfunc = {"loader_module": "mlflow.sklearn", "model_path": MODEL_FILE, "predict_fn": "predict"}
    return Saved(conf, requirements, pyfunc, predict=native(model).predict)


def load(folder: Path, conf: Mapping[str, Any], options: LoadOptions) -> Native:
    path = inside(folder, conf.get("pickled_model") or MODEL_FILE, "model file")
    model = read_skops(path, options.trusted)
    return native(model)


def read_skops(path: Path, trusted: tuple[str, ...] | list[str]) -> Any:
    """Load a skops file, building only trusted types; InvalidArgument otherwise."""
    import skops.io as sio

    if not path.is_file():
        raise InvalidArgument(f"Model file {path.name!r} is missing from {str(path.parent)!r}.")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # BadZipFile, KeyError, JSON errors: a damaged file
        raise library_error(path, exc, "skops") from exc
    extra = set(trusted)
    allowed = [t for t in untrusted if is_trusted_by_default(t) or t in extra]
    refused = sorted(t for t in untrusted if t not in allowed)
    if refused:
        raise InvalidArgument(
            f"Model file {path.name!r} holds types loopml does not trust by default: "
            f"{', '.join(refused)}. Loading builds them and may run their code. If you trust "
            f"them, pass trusted={refused!r} to load_model."
        )
    try:
        return sio.load(path, trusted=allowed)
    except Exception as exc:  # one seam for skops' and the types' own errors
        raise library_error(path, exc, "skops") from exc


def native(model: Any) -> Native:
    """Predict callables for a scikit-learn estimator, as it was fitted.

    An estimator fitted on a DataFrame gets the DataFrame (its column names
    are checked by scikit-learn too); one fitted on an array gets the values.
    """
    takes_frame = hasattr(model, "feature_names_in_")
    method = getattr(model, "predict", None) or getattr(model, "transform", None)
    if method is None:
        raise InvalidArgument(
            f"The {type(model).__name__} has neither predict nor transform: nothing to serve."
        )
    proba = model.predict_proba if _has(model, "predict_proba") else None
    if takes_frame:
        return Native(model, method, proba)
    return Native(model, _on_values(method), _on_values(proba) if proba is not None else None)


def _has(model: Any, name: str) -> bool:
    try:
        return callable(getattr(model, name))
    except AttributeError:  # a Pipeline whose last step lacks it
        return False


def _on_values(method: Any) -> Any:
    def run(data: Any) -> Any:
        return method(frame_to_array(data))

    return run
