"""Converting a scikit-learn model to ONNX, accepted only when it reproduces the model.

skl2onnx computes in float32, so a conversion is trusted only after it
predicts the model's own input example like the native model does:
classifier labels equal, regressor outputs within ``rtol=1e-4``. Anything
else (no signature or example, non-numeric columns, a converter or runtime
error, a disagreement) is a refusal whose text says why, for the serving log
and for the warning of ``save_model(..., onnx=True)``.

Two callers use it: the inference server, which converts in the background
at start, and ``save_model(..., onnx=True)``, which stores the verified
conversion with the model so that every server of that model answers before
scikit-learn is even imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.core.hashing import hash_bytes
from loopml.models._manifest import Manifest, inside
from loopml.models._signature import ColSpec, Signature, TensorSpec

REGRESSOR_RTOL = 1e-4
COMPANION_FILE = "onnx/model.onnx"
"""Where ``save_model(..., onnx=True)`` puts the conversion inside the model folder."""

_FLOAT_TYPES = frozenset({"float", "double"})
_INT_TYPES = frozenset({"integer", "long"})


@dataclass(frozen=True, slots=True)
class Conversion:
    """A verified conversion: the ONNX bytes, how to feed it (``plan``), and why it is trusted.

    ``plan`` is JSON-able: ``columns`` (the feature order, or None for
    positional input), ``int_columns`` (columns declared integer),
    ``native_dtype`` (the native output's dtype) and ``ravel`` (flatten an
    ``(n, 1)`` output).
    """

    model_bytes: bytes
    plan: dict[str, Any]
    reason: str


def verified_conversion(
    raw: Any, signature: Signature | None, example: Any, predict: Callable[[Any], Any]
) -> Conversion | str:
    """The conversion of estimator ``raw`` if it reproduces ``predict`` on ``example``.

    ``predict`` is the native prediction with the signature enforced (what
    a caller gets without ONNX). Returns the refusal's reason otherwise.
    """
    if not callable(getattr(raw, "predict", None)):
        return f"{type(raw).__name__} has no predict method"
    columns, int_columns, problem = _columns(raw, signature)
    if problem:
        return problem
    if example is None:
        return "the model has no input example to check the conversion on"
    classifier = _is_classifier(raw)
    try:
        native_out = np.asarray(predict(example))
        matrix = _example_matrix(example, columns)
        converted = _convert(raw, matrix.shape[1], classifier)
    except Exception as exc:  # any converter or runtime failure just means: native
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return f"skl2onnx could not convert it ({type(exc).__name__}: {detail})"
    plan: dict[str, Any] = {
        "columns": list(columns) if columns is not None else None,
        "int_columns": sorted(int_columns),
        "native_dtype": native_out.dtype.str,
        "ravel": native_out.ndim == 1,
    }
    try:
        session = onnx_session(converted)
        onnx_out = run_onnx(
            session, session.get_inputs()[0].name, matrix, native_out.dtype, plan["ravel"]
        )
    except Exception as exc:
        return f"ONNX Runtime failed on the input example ({exc!s:.200})"
    if onnx_out.shape != native_out.shape:
        return "the converted model's output has another shape"
    if classifier:
        if not np.array_equal(onnx_out, native_out):
            return "the converted classifier predicts other labels on the input example"
        reason = "the converted classifier predicts the same labels on the input example"
        return Conversion(converted, plan, reason)
    if native_out.dtype.kind not in "iuf" or not np.allclose(
        onnx_out, native_out, rtol=REGRESSOR_RTOL, atol=0.0
    ):
        return (
            "the converted model's outputs differ from the native ones beyond "
            f"rtol={REGRESSOR_RTOL}"
        )
    reason = f"outputs match the native model within rtol={REGRESSOR_RTOL} on the input example"
    return Conversion(converted, plan, reason)


def onnx_session(model_bytes: bytes) -> Any:
    """An ONNX Runtime session tuned for small batches (one thread each way)."""
    import onnxruntime as ort

    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = 1  # batches are small; threads cost more than they save
    session_options.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, session_options, providers=["CPUExecutionProvider"])


def run_onnx(
    session: Any, input_name: str, matrix: np.ndarray, dtype: np.dtype, ravel: bool
) -> np.ndarray:
    """The converted model's first output on a float32 matrix, shaped and typed as natively."""
    out = session.run(None, {input_name: matrix})[0]
    if ravel and out.ndim == 2 and out.shape[1] == 1:
        out = out.ravel()
    return out if out.dtype == dtype else out.astype(dtype)


def _columns(
    raw: Any, signature: Signature | None
) -> tuple[tuple[str, ...] | None, frozenset[str], str]:
    """The feature order the converted model takes, the integer columns, or a problem."""
    if signature is None:
        return None, frozenset(), "the model has no signature"
    specs = signature.inputs.inputs
    if signature.inputs.is_tensor:
        if len(specs) != 1 or not isinstance(specs[0], TensorSpec):
            return None, frozenset(), "the signature has several tensors"
        spec = specs[0]
        if len(spec.shape) != 2 or spec.numpy_dtype.kind not in "iuf":
            return None, frozenset(), "the signature's tensor is not a numeric matrix"
        return None, frozenset(), ""
    types = {spec.name: spec.type for spec in specs if isinstance(spec, ColSpec)}
    if any(t not in _FLOAT_TYPES | _INT_TYPES for t in types.values()):
        return None, frozenset(), "not every input column is numeric"
    if not signature.inputs.has_names:
        return None, frozenset(), ""
    fitted = getattr(raw, "feature_names_in_", None)
    names = tuple(str(n) for n in fitted) if fitted is not None else tuple(str(n) for n in types)
    if sorted(names) != sorted(str(n) for n in types):
        return None, frozenset(), "the signature's columns are not the ones the model was fitted on"
    return names, frozenset(n for n, t in types.items() if t in _INT_TYPES and n is not None), ""


def _example_matrix(example: Any, columns: tuple[str, ...] | None) -> np.ndarray:
    if isinstance(example, pd.DataFrame):
        frame = example[list(columns)] if columns is not None else example
        return frame.to_numpy(dtype=np.float32)
    return np.asarray(example, dtype=np.float32)


def _convert(raw: Any, width: int, classifier: bool) -> bytes:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    # Classifiers: labels and a plain probability matrix, not a list of dicts (zipmap).
    options = {"zipmap": False} if classifier else None
    proto = to_onnx(raw, initial_types=[("input", FloatTensorType([None, width]))], options=options)
    return bytes(proto.SerializeToString())


def _is_classifier(raw: Any) -> bool:
    from sklearn.base import is_classifier

    return bool(is_classifier(raw))


def write_companion(folder: Path, conversion: Conversion) -> dict[str, Any]:
    """Store ``conversion`` in a model folder being saved; return its manifest entry.

    The entry goes in the scikit-learn flavor's section of ``MLmodel``; the
    file is listed with its digest like every other model file.
    """
    target = folder / COMPANION_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(conversion.model_bytes)
    return {"path": COMPANION_FILE, "plan": conversion.plan, "reason": conversion.reason}


def read_companion(folder: Path, manifest: Manifest) -> Conversion | None:
    """The conversion saved with the model in ``folder``, or None when it has none.

    Its bytes are checked against the manifest's digest (CorruptObject on a
    mismatch), because the server runs them before the native model's own
    check has happened.
    """
    entry = manifest.flavor_conf.get("onnx")
    if not isinstance(entry, dict):
        return None
    path = entry.get("path")
    plan = entry.get("plan")
    digest = manifest.files.get(path) if isinstance(path, str) else None
    if digest is None or not isinstance(plan, dict):
        raise InvalidArgument(
            f"The ONNX conversion listed in {str(folder)!r}'s MLmodel is malformed or not among "
            "its files; save the model again."
        )
    data = inside(folder, path, "ONNX conversion").read_bytes()
    if len(data) != digest.size or hash_bytes(data) != digest.blake3:
        raise CorruptObject(
            f"{path!r} in {str(folder)!r} does not match its digest in MLmodel: the model "
            "folder was changed after it was saved. Save or download it again."
        )
    return Conversion(data, plan, str(entry.get("reason", "")))
