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

from loopml.models import LoadedModel, onnx_session, run_onnx, verified_conversion
from loopml.serving._payload import Payload, Table, to_native

log = logging.getLogger("loopml.serving")

SKLEARN = "sklearn"


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
        session = onnx_session(model_bytes)
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
        return run_onnx(self.session, self._input, matrix, self._dtype, self._ravel)

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
    example = model.input_example()
    conversion = verified_conversion(model.raw, model.signature, example, model.predict)
    if isinstance(conversion, str):
        return FastPath("native", conversion)
    predictor = OnnxPredictor.from_plan(conversion.model_bytes, conversion.plan)
    try:
        # The request path too must take the example (column order, integer columns).
        taken = predictor(to_native(example)) if predictor.columns is not None else True
    except Exception as exc:
        return FastPath("native", f"ONNX Runtime failed on the input example ({exc!s:.200})")
    if taken is None:
        return FastPath(
            "native", "the input example holds values the fast path leaves to the native model"
        )
    return FastPath("onnx", conversion.reason, predictor)
