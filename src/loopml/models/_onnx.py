"""The ONNX flavor: a ``model.onnx`` file run by ONNX Runtime on the CPU.

``save_model`` takes an ``onnx.ModelProto``, the serialized bytes, or the
path of a ``.onnx`` file. The session is built from the file's bytes, not
its path, so a model cannot point ONNX Runtime at external data files
elsewhere on the disk (models with external data are refused).

Feeding the session: a model with one input gets the whole table (or array)
as one tensor of the input's element type; a model with several inputs gets
one column (or one named array) per input. ``predict`` returns the first
output; ``predict_proba`` the probabilities output when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.models._flavor import LoadOptions, Native, Saved, SaveOptions, library_error
from loopml.models._manifest import inside
from loopml.models._signature import Schema, Signature, TensorSpec

FLAVOR = "onnx"
MODEL_FILE = "model.onnx"
PROVIDERS = ["CPUExecutionProvider"]
_ELEMENT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int8)": np.int8,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


def save(model: Any, folder: Path, options: SaveOptions) -> Saved:
    import onnxruntime

    data = _model_bytes(model)
    session = _session(data, Path(MODEL_FILE))
    (folder / MODEL_FILE).write_bytes(data)
    conf = {
        "data": MODEL_FILE,
        "providers": PROVIDERS,
        "onnx_session_options": None,
        "onnxruntime_version": onnxruntime.__version__,
        "code": None,
    }
    inputs = tuple(
        TensorSpec(np.dtype(_element_type(i.type)).name, _shape(i.shape), i.name)
        for i in session.get_inputs()
    )
    return Saved(
        conf,
        {"onnxruntime": onnxruntime.__version__},
        {"loader_module": "mlflow.onnx", "data": MODEL_FILE},  # MLflow reads it as is
        Signature(Schema(inputs)),
        _Runner(session).predict,
    )


def _model_bytes(model: Any) -> bytes:
    if isinstance(model, bytes | bytearray | memoryview):
        return bytes(model)
    if isinstance(model, str | Path):
        path = Path(model)
        if not path.is_file():
            raise InvalidArgument(f"No ONNX file at {str(path)!r}.")
        return path.read_bytes()
    serialize = getattr(model, "SerializeToString", None)
    if type(model).__name__ == "ModelProto" and callable(serialize):
        return bytes(serialize())
    raise InvalidArgument(
        f"The onnx flavor takes an onnx.ModelProto, its bytes or a .onnx path, not a "
        f"{type(model).__name__}."
    )


def _session(data: bytes, file: Path) -> Any:
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(data, providers=PROVIDERS)
    except Exception as exc:  # InvalidProtobuf, Fail, NotImplemented ...: one seam
        raise library_error(file, exc, "ONNX model") from exc


def _element_type(name: str) -> Any:
    found = _ELEMENT_TYPES.get(name)
    if found is None:
        raise InvalidArgument(f"ONNX input type {name} is not supported by loopml.")
    return found


def _shape(shape: list[Any]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d >= 0 else -1 for d in shape)


def load(folder: Path, conf: Mapping[str, Any], options: LoadOptions) -> Native:
    path = inside(folder, conf.get("data") or MODEL_FILE, "model file")
    if not path.is_file():
        raise InvalidArgument(f"Model file {path.name!r} is missing from {str(folder)!r}.")
    session = _session(path.read_bytes(), path)
    runner = _Runner(session)
    return Native(session, runner.predict, runner.predict_proba if runner.proba >= 0 else None)


class _Runner:
    """Feeds a session and picks its outputs."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs = [(i.name, _element_type(i.type), len(i.shape)) for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        self.outputs = outputs
        self.proba = next((k for k, n in enumerate(outputs) if "prob" in n.lower()), -1)

    def feed(self, data: Any) -> dict[str, np.ndarray]:
        if len(self.inputs) == 1:
            name, dtype, _ = self.inputs[0]
            if isinstance(data, Mapping):
                data = data.get(name, next(iter(data.values())))
            values = data.to_numpy() if isinstance(data, pd.DataFrame | pd.Series) else data
            return {name: np.asarray(values).astype(dtype, copy=False)}
        feed = {}
        for name, dtype, rank in self.inputs:
            if isinstance(data, pd.DataFrame):
                if name not in data.columns:
                    raise InvalidArgument(f"The ONNX model needs input {name!r}: no such column.")
                values = data[name].to_numpy()
                values = values.reshape(-1, 1) if rank == 2 else values
            elif isinstance(data, Mapping) and name in data:
                values = np.asarray(data[name])
            else:
                raise InvalidArgument(f"The ONNX model needs input {name!r}.")
            feed[name] = np.asarray(values).astype(dtype, copy=False)
        return feed

    def run(self, data: Any, names: list[str]) -> list[Any]:
        try:
            return self.session.run(names, self.feed(data))
        except InvalidArgument:
            raise
        except Exception as exc:  # ONNX Runtime's errors on bad shapes or types
            raise InvalidArgument(f"ONNX Runtime refused the input: {exc}") from exc

    def predict(self, data: Any) -> Any:
        return self.run(data, self.outputs[:1])[0]

    def predict_proba(self, data: Any) -> Any:
        result = self.run(data, [self.outputs[self.proba]])[0]
        if isinstance(result, list) and result and isinstance(result[0], Mapping):
            keys = sorted(result[0])  # ZipMap output: one dict per row
            return np.array([[row[k] for k in keys] for row in result])
        return result
