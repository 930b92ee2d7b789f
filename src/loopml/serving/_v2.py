"""KServe's Open Inference Protocol V2 (``/v2/...``): typed tensors in and out.

An inference request carries ``inputs``: tensors with a ``name``, a
``datatype`` (``FP32``, ``INT64``, ``BYTES``...), a ``shape`` and their
``data`` (flat or nested, row-major). They map onto the model's signature:

* one tensor per column, named like the signature's columns (``[N]`` or
  ``[N, 1]`` each);
* or a single ``[N, C]`` tensor for a tensor signature, or for a signature
  whose C columns are all numeric (taken in the signature's order).

Outputs are named per the signature's output schema (a DataFrame result:
one output per column), ``predict`` when it names nothing. The binary data
extension is not implemented: a request using it is refused with a message
saying to send JSON data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.models import ColSpec, Signature, TensorSpec
from loopml.serving._payload import Payload, Table

DEFAULT_OUTPUT = "predict"
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(bool),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
COLUMN_DATATYPES = {
    "boolean": "BOOL",
    "integer": "INT32",
    "long": "INT64",
    "float": "FP32",
    "double": "FP64",
    "string": "BYTES",
    "binary": "BYTES",
    "datetime": "BYTES",
}
_NUMERIC_COLUMNS = frozenset({"integer", "long", "float", "double"})


class V2Request:
    """A parsed inference request: the model input, the request id, the wanted outputs."""

    __slots__ = ("id", "outputs", "payload")

    def __init__(self, payload: Payload, request_id: str | None, outputs: list[str] | None) -> None:
        self.payload = payload
        self.id = request_id
        self.outputs = outputs


def parse_infer(document: Any, signature: Signature | None) -> V2Request:
    """The model input of a V2 inference request (``InvalidArgument`` naming any problem)."""
    if not isinstance(document, dict):
        raise InvalidArgument("The inference request must be a JSON object with 'inputs'.")
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidArgument("The inference request needs 'inputs': a non-empty list of tensors.")
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidArgument(f"'id' must be a string, not {request_id!r:.100}.")
    tensors: dict[str, np.ndarray] = {}
    for item in inputs:
        name, array = _tensor(item)
        if name in tensors:
            raise InvalidArgument(f"Input {name!r} is given twice.")
        tensors[name] = array
    return V2Request(_to_payload(tensors, signature), request_id, _wanted(document.get("outputs")))


def _wanted(outputs: Any) -> list[str] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise InvalidArgument("'outputs' must be a list of objects with a 'name'.")
    return [o["name"] for o in outputs]


def _tensor(item: Any) -> tuple[str, np.ndarray]:
    if not isinstance(item, dict):
        raise InvalidArgument(
            f"Each input must be an object (name, datatype, shape, data), not {item!r:.100}."
        )
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidArgument("Each input needs a 'name' (a non-empty string).")
    datatype = item.get("datatype")
    dtype = DTYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None or not isinstance(datatype, str):
        raise InvalidArgument(
            f"Input {name!r} has datatype {datatype!r}; use one of {', '.join(DTYPES)}."
        )
    shape = item.get("shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise InvalidArgument(f"Input {name!r} needs a 'shape': a list of sizes, e.g. [2, 3].")
    parameters = item.get("parameters")
    if isinstance(parameters, dict) and "binary_data_size" in parameters:
        raise InvalidArgument(
            f"Input {name!r} uses the binary data extension, which this server does not take: "
            "send the tensor's values as JSON 'data' (tritonclient: binary_data=False)."
        )
    if "data" not in item:
        raise InvalidArgument(f"Input {name!r} has no 'data'.")
    data = item["data"]
    if not isinstance(data, list):
        data = [data]
    try:
        array = np.asarray(data)
    except (ValueError, TypeError):
        raise InvalidArgument(
            f"Input {name!r}: 'data' is not a regular array (nested lists of equal length)."
        ) from None
    array = _as_datatype(name, array, datatype, dtype)
    size = int(np.prod(shape))
    if array.size != size:
        raise InvalidArgument(
            f"Input {name!r} has shape {shape}, which needs {size} values, but 'data' holds "
            f"{array.size}."
        )
    return name, array.reshape(shape)


def _as_datatype(name: str, array: np.ndarray, datatype: str, dtype: np.dtype) -> np.ndarray:
    kind = array.dtype.kind
    if array.size == 0:
        return array.astype(dtype)
    if datatype == "BYTES":
        if kind not in "US":
            raise InvalidArgument(f"Input {name!r} is BYTES but holds {_kind(kind)}.")
        return array.astype(object)
    if datatype == "BOOL":
        if kind != "b":
            raise InvalidArgument(f"Input {name!r} is BOOL but holds {_kind(kind)}.")
        return array
    if dtype.kind == "f":
        if kind not in "iuf":
            raise InvalidArgument(f"Input {name!r} is {datatype} but holds {_kind(kind)}.")
        return array.astype(dtype)
    if kind not in "iu":
        raise InvalidArgument(f"Input {name!r} is {datatype} but holds {_kind(kind)}.")
    info = np.iinfo(dtype)
    if array.min() < info.min or array.max() > info.max:
        raise InvalidArgument(f"Input {name!r} has values outside the range of {datatype}.")
    return array.astype(dtype)


def _kind(kind: str) -> str:
    return {
        "b": "booleans",
        "i": "integers",
        "u": "integers",
        "f": "floating-point numbers",
        "U": "strings",
        "S": "strings",
    }.get(kind, "values of mixed kinds")


def _to_payload(tensors: dict[str, np.ndarray], signature: Signature | None) -> Payload:
    schema = signature.inputs if signature is not None else None
    if schema is None:
        if len(tensors) == 1:
            return next(iter(tensors.values()))
        return _columns(tensors)
    if schema.is_tensor:
        specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
        if len(specs) != 1 or len(tensors) != 1:
            raise InvalidArgument(
                f"The model takes {len(specs)} tensor(s); send exactly that many inputs "
                f"(got {len(tensors)})."
            )
        return next(iter(tensors.values()))
    specs_c = [s for s in schema.inputs if isinstance(s, ColSpec)]
    names = [str(s.name) for s in specs_c] if schema.has_names else None
    if names is not None and (len(tensors) > 1 or next(iter(tensors)) in names):
        return _by_column(tensors, specs_c, names)
    return _matrix(tensors, specs_c, names)


def _by_column(tensors: dict[str, np.ndarray], specs: list[ColSpec], names: list[str]) -> Payload:
    extra = [n for n in tensors if n not in names]
    if extra:
        raise InvalidArgument(
            f"Unexpected input {extra[0]!r}: the model takes the inputs {', '.join(names)}."
        )
    missing = [str(s.name) for s in specs if s.required and s.name not in tensors]
    if missing:
        raise InvalidArgument(
            f"Missing input {missing[0]!r}: the model takes the inputs {', '.join(names)} "
            "(one tensor per column)."
        )
    return _columns({n: tensors[n] for n in names if n in tensors})


def _columns(tensors: dict[str, np.ndarray]) -> Payload:
    columns: dict[str, np.ndarray] = {}
    for name, array in tensors.items():
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise InvalidArgument(
                f"Input {name!r} has shape {list(array.shape)}; a column is [N] or [N, 1]."
            )
        columns[name] = array
    lengths = {len(a) for a in columns.values()}
    if len(lengths) != 1:
        sizes = ", ".join(f"{n}: {len(a)}" for n, a in columns.items())
        raise InvalidArgument(f"The inputs have different numbers of rows ({sizes}).")
    if not lengths.pop():
        raise InvalidArgument("The inputs have no rows.")
    if all(a.dtype.kind in "iuf" for a in columns.values()):
        return Table(tuple(columns), np.column_stack(list(columns.values())))
    return pd.DataFrame(columns)


def _matrix(
    tensors: dict[str, np.ndarray], specs: list[ColSpec], names: list[str] | None
) -> Payload:
    ((name, array),) = tensors.items()
    width = len(specs)
    described = ", ".join(names) if names else f"{width} columns"
    if array.ndim == 1 and width == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != width:
        raise InvalidArgument(
            f"Input {name!r} has shape {list(array.shape)}; the model takes [N, {width}] "
            f"({described}), or one input per column."
        )
    if names is None:
        return array
    if any(s.type not in _NUMERIC_COLUMNS for s in specs):
        raise InvalidArgument(
            f"Input {name!r} is one tensor, but the model's columns are not all numeric: "
            f"send one input per column ({described})."
        )
    if array.dtype.kind not in "iuf":
        raise InvalidArgument(f"Input {name!r} must hold numbers for the columns {described}.")
    return Table(tuple(names), array)


# -- responses -----------------------------------------------------------------------


def datatype_of(dtype: np.dtype) -> str:
    kind = dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return f"{'U' if kind == 'u' else ''}INT{dtype.itemsize * 8}"
    if kind == "f":
        return f"FP{dtype.itemsize * 8}"
    return "BYTES"


def encode_outputs(
    predictions: Any, signature: Signature | None, wanted: list[str] | None
) -> list[dict[str, Any]]:
    """The ``outputs`` of a V2 response, named per the signature."""
    if isinstance(predictions, pd.DataFrame):
        outputs = [_output(str(c), predictions[c].to_numpy()) for c in predictions.columns]
    else:
        if isinstance(predictions, pd.Series):
            predictions = predictions.to_numpy()
        outputs = [_output(output_name(signature), np.asarray(predictions))]
    if wanted is None:
        return outputs
    by_name = {o["name"]: o for o in outputs}
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise InvalidArgument(
            f"Unknown output {unknown[0]!r}: the model returns {', '.join(by_name)}."
        )
    return [by_name[n] for n in wanted]


def output_name(signature: Signature | None) -> str:
    outputs = signature.outputs if signature is not None else None
    if outputs is not None and len(outputs.inputs) == 1 and outputs.inputs[0].name:
        return str(outputs.inputs[0].name)
    return DEFAULT_OUTPUT


def _output(name: str, array: np.ndarray) -> dict[str, Any]:
    datatype = datatype_of(array.dtype)
    flat = array.reshape(-1)
    data = [str(v) for v in flat] if datatype == "BYTES" else flat.tolist()
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": data}


def tensor_metadata(
    signature: Signature | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``inputs`` and ``outputs`` of the model metadata endpoint."""
    inputs = _schema_metadata(signature.inputs if signature else None, "input")
    outputs = _schema_metadata(signature.outputs if signature else None, DEFAULT_OUTPUT)
    return inputs, outputs


def _schema_metadata(schema: Any, default: str) -> list[dict[str, Any]]:
    if schema is None:
        return [
            {"name": default, "datatype": "BYTES" if default == "input" else "FP64", "shape": [-1]}
        ]
    out = []
    for i, spec in enumerate(schema.inputs):
        if isinstance(spec, TensorSpec):
            out.append(
                {
                    "name": spec.name or (default if len(schema.inputs) == 1 else f"{default}_{i}"),
                    "datatype": datatype_of(spec.numpy_dtype),
                    "shape": list(spec.shape),
                }
            )
        else:
            out.append(
                {
                    "name": spec.name or (default if len(schema.inputs) == 1 else f"{default}_{i}"),
                    "datatype": COLUMN_DATATYPES[spec.type],
                    "shape": [-1],
                }
            )
    return out
