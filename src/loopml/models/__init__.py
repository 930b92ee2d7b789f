"""Model packaging: save, log and load models with their signature and files.

A model is a folder: the flavor's files (skops for scikit-learn, native
formats for XGBoost and LightGBM, ``model.onnx``, or code and artifacts for
a ``python_function``), an input example, ``requirements.txt`` and the
``MLmodel`` manifest in MLflow's layout, with the size and BLAKE3 digest of
every file::

    from loopml import models

    info = models.log_model(pipeline, "model", input_example=X.head())
    loaded = models.load_model(info.model_uri)     # runs:/<run_id>/model
    loaded.predict(X)                              # input checked against the signature

Nothing is unpickled unless the caller says ``trust_pickle=True`` (only
MLflow-written models use pickle), and skops builds only trusted types.
``models:/`` URIs are resolved by the registry (``loopml.load_model``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.lazy import lazy_exports
from loopml.models._flavor import LoadOptions
from loopml.models._load import load_local, load_model
from loopml.models._loaded import LoadedModel
from loopml.models._manifest import FileDigest, Manifest, read_manifest
from loopml.models._onnx_conversion import (
    Conversion,
    onnx_session,
    read_companion,
    run_onnx,
    verified_conversion,
)
from loopml.models._pyfunc import PythonModelContext
from loopml.models._save import save_model
from loopml.models._signature import (
    ColSpec,
    Schema,
    Signature,
    TensorSpec,
    infer_signature,
    signature_problems,
)

if TYPE_CHECKING:
    from loopml.models._autolog import autolog
    from loopml.models._log import ModelInfo, log_model

__all__ = [
    "ColSpec",
    "Conversion",
    "FileDigest",
    "LoadedModel",
    "Manifest",
    "ModelInfo",
    "PythonModelContext",
    "Schema",
    "Signature",
    "TensorSpec",
    "autolog",
    "infer_signature",
    "load_model",
    "log_model",
    "onnx_session",
    "read_companion",
    "read_manifest",
    "run_onnx",
    "save_model",
    "signature_problems",
    "verified_conversion",
]

# Logging needs the tracking store (SQLAlchemy): imported on first use (PEP 562), so
# loading a model folder, as `loopml serve` does, starts without it.
_LAZY = {
    "autolog": "loopml.models._autolog",
    "ModelInfo": "loopml.models._log",
    "log_model": "loopml.models._log",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> LoadedModel:
    """MLflow's pyfunc loader hook: ``mlflow.pyfunc.load_model`` on a loopml model folder.

    The ``python_function`` entry of python_function and LightGBM-wrapper
    models names ``loader_module: loopml.models`` (MLflow cannot read those
    files itself), so the MLflow client loads them through this, with
    loopml's checks (digests, trusted types, signature).
    """
    folder = Path(path)
    return load_local(folder.parent if folder.is_file() else folder, LoadOptions())
