"""The ONNX Runtime fast path for scikit-learn models, used only when it agrees.

scikit-learn spends most of a single-row prediction on input validation
(hundreds of microseconds for a small pipeline); the same model converted
with skl2onnx runs in a few microseconds. The converted model computes in
float32, so it is used only if it reproduces the native model on the
model's own input example: classifier labels equal, regressor outputs
within ``rtol=1e-4``. Otherwise, or when conversion fails, the native model
serves, and ``FastPath.reason`` says why (the server logs it at load).

At request time the fast path takes only input it can handle exactly like
the native path would (the signature's numeric columns, finite values);
anything else returns None and goes through ``LoadedModel.predict``, whose
signature checks name the problem.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.models import ColSpec, LoadedModel, TensorSpec
from loopml.serving._payload import Payload, Table, to_native

log = logging.getLogger("loopml.serving")

SKLEARN = "sklearn"
REGRESSOR_RTOL = 1e-4
_FLOAT_TYPES = frozenset({"float", "double"})
_INT_TYPES = frozenset({"integer", "long"})


@dataclass(frozen=True, slots=True)
class FastPath:
    """Which path predicts (``onnx`` or ``native``), why, and the ONNX predictor if any."""

    path: str
    reason: str
    predictor: OnnxPredictor | None = None


class OnnxPredictor:
    """Runs a converted model on a float32 matrix of the model's feature columns."""

    __slots__ = (
        "_dtype",
        "_input",
        "_int_columns",
        "_orders",
        "_ravel",
        "columns",
        "model_bytes",
        "session",
    )

    def __init__(
        self,
        model_bytes: bytes,
        columns: tuple[str, ...] | None,
        int_columns: frozenset[str],
        native_dtype: np.dtype,
        ravel: bool,
    ) -> None:
        self.model_bytes = model_bytes  # the converted model, kept so a restart can reuse it
        session = _session(model_bytes)
        self.session = session
        self.columns = columns  # None: positional (tensor signature or no names)
        self._int_columns = int_columns  # columns declared integer: floats go to the native path
        self._input = session.get_inputs()[0].name
        self._dtype = native_dtype
        self._ravel = ravel
        self._orders: dict[tuple[str, ...], np.ndarray | None] = {}

    def plan(self) -> dict[str, Any]:
        """What besides the model bytes rebuilds this predictor (JSON-able)."""
        return {
            "columns": list(self.columns) if self.columns is not None else None,
            "int_columns": sorted(self._int_columns),
            "native_dtype": self._dtype.str,
            "ravel": self._ravel,
        }

    @classmethod
    def from_plan(cls, model_bytes: bytes, plan: dict[str, Any]) -> OnnxPredictor:
        """The predictor ``plan()`` described, over the same converted model."""
        columns = plan["columns"]
        return cls(
            model_bytes,
            tuple(columns) if columns is not None else None,
            frozenset(plan["int_columns"]),
            np.dtype(plan["native_dtype"]),
            bool(plan["ravel"]),
        )

    def __call__(self, payload: Payload) -> np.ndarray | None:
        matrix = self._matrix(payload)
        if matrix is None:
            return None
        out = self.session.run(None, {self._input: matrix})[0]
        if self._ravel and out.ndim == 2 and out.shape[1] == 1:
            out = out.ravel()
        return out if out.dtype == self._dtype else out.astype(self._dtype)

    def _matrix(self, payload: Payload) -> np.ndarray | None:
        if isinstance(payload, Table):
            order = self._order(payload.columns)
            if order is None or (payload.values.dtype.kind == "f" and self._int_columns):
                return None
            values = payload.values[:, order] if len(order) else payload.values
        elif isinstance(payload, pd.DataFrame):
            names = tuple(str(c) for c in payload.columns)
            order = self._order(names) if len(names) == len(payload.columns) else None
            if order is None:
                return None
            kinds = [dtype.kind for dtype in payload.dtypes]
            if any(k not in "iuf" for k in kinds):
                return None
            if self._int_columns and any(
                k == "f" for c, k in zip(names, kinds, strict=True) if c in self._int_columns
            ):
                return None
            values = payload.to_numpy()
            values = values[:, order] if len(order) else values
        else:
            if self.columns is not None and len(self.columns) != (
                payload.shape[1] if payload.ndim == 2 else -1
            ):
                return None
            if payload.ndim != 2 or payload.dtype.kind not in "iuf":
                return None
            values = payload
        if values.dtype.kind not in "iuf":
            return None
        matrix = np.ascontiguousarray(values, dtype=np.float32)
        if not np.isfinite(matrix).all():
            return None  # NaN/inf: the native model decides what they mean
        return matrix

    def _order(self, names: tuple[str, ...]) -> np.ndarray | None:
        """Indexes putting ``names`` in the model's column order (empty: already in order)."""
        if self.columns is None:
            return None
        if names in self._orders:
            return self._orders[names]
        order: np.ndarray | None
        if names == self.columns:
            order = np.array([], dtype=np.intp)
        elif sorted(names) == sorted(self.columns):
            position = {n: i for i, n in enumerate(names)}
            order = np.array([position[c] for c in self.columns], dtype=np.intp)
        else:
            order = None
        if len(self._orders) < 64:  # a caller sending random column names must not grow this
            self._orders[names] = order
        return order


def choose_fast_path(model: LoadedModel, *, enabled: bool = True) -> FastPath:
    """The ONNX predictor for ``model`` when it reproduces the native one, else why not."""
    if not enabled:
        return FastPath("native", "the ONNX fast path is turned off")
    if model.flavor != SKLEARN:
        return FastPath(
            "native", f"the ONNX fast path is for scikit-learn models, not {model.flavor}"
        )
    raw = model.raw
    if not callable(getattr(raw, "predict", None)):
        return FastPath("native", f"{type(raw).__name__} has no predict method")
    columns, int_columns, problem = _columns(model)
    if problem:
        return FastPath("native", problem)
    example = model.input_example()
    if example is None:
        return FastPath("native", "the model has no input example to check the conversion on")
    try:
        native_out = np.asarray(model.predict(example))
        matrix = _example_matrix(example, columns)
        converted = _convert(raw, matrix.shape[1], _is_classifier(raw))
    except Exception as exc:  # any converter or runtime failure just means: native
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return FastPath("native", f"skl2onnx could not convert it ({type(exc).__name__}: {detail})")
    try:
        predictor = OnnxPredictor(
            converted, columns, int_columns, native_out.dtype, native_out.ndim == 1
        )
        onnx_out = predictor(to_native(example) if columns is not None else matrix)
    except Exception as exc:
        return FastPath("native", f"ONNX Runtime failed on the input example ({exc!s:.200})")
    if onnx_out is None:
        return FastPath(
            "native", "the input example holds values the fast path leaves to the native model"
        )
    if onnx_out.shape != native_out.shape:
        return FastPath("native", "the converted model's output has another shape")
    if _is_classifier(raw):
        if not np.array_equal(onnx_out, native_out):
            return FastPath(
                "native", "the converted classifier predicts other labels on the input example"
            )
        return FastPath(
            "onnx",
            "the converted classifier predicts the same labels on the input example",
            predictor,
        )
    if native_out.dtype.kind not in "iuf" or not np.allclose(
        onnx_out, native_out, rtol=REGRESSOR_RTOL, atol=0.0
    ):
        return FastPath(
            "native",
            "the converted model's outputs differ from the native ones beyond "
            f"rtol={REGRESSOR_RTOL}",
        )
    return FastPath(
        "onnx",
        f"outputs match the native model within rtol={REGRESSOR_RTOL} on the input example",
        predictor,
    )


def _columns(model: LoadedModel) -> tuple[tuple[str, ...] | None, frozenset[str], str]:
    """The feature order the converted model takes, the integer columns, or a problem."""
    signature = model.signature
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
    fitted = getattr(model.raw, "feature_names_in_", None)
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


def _session(model_bytes: bytes) -> Any:
    import onnxruntime as ort

    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = 1  # batches are small; threads cost more than they save
    session_options.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, session_options, providers=["CPUExecutionProvider"])


def _is_classifier(raw: Any) -> bool:
    from sklearn.base import is_classifier

    return bool(is_classifier(raw))
