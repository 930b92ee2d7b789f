"""Model signatures: what a model takes and returns, in MLflow's JSON form.

A signature has an input schema and (optionally) an output schema. A schema
is either a list of named columns (``ColSpec``: a DataFrame, the common
case) or a list of tensors (``TensorSpec``: NumPy arrays with a dtype and a
shape, ``-1`` for "any size"). The JSON written into ``MLmodel`` is the one
MLflow writes, so the MLflow client reads a loopml signature and loopml reads
MLflow's.

``signature_problems(old, new)`` is the one rule that says whether a new
model can replace an old one without breaking its callers; the registry's
SignatureGate uses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument

# MLflow's column types and the NumPy dtype each one means.
COLUMN_TYPES: dict[str, np.dtype] = {
    "boolean": np.dtype(bool),
    "integer": np.dtype(np.int32),
    "long": np.dtype(np.int64),
    "float": np.dtype(np.float32),
    "double": np.dtype(np.float64),
    "string": np.dtype(object),
    "binary": np.dtype(object),
    "datetime": np.dtype("datetime64[ns]"),
}
NUMERIC_TYPES = frozenset({"integer", "long", "float", "double"})
# Which declared type may take the place of another without losing a value:
# a caller who sends the old type is still served by a model declaring the new one.
_WIDENS_TO: dict[str, frozenset[str]] = {
    "boolean": frozenset({"boolean"}),
    "integer": frozenset({"integer", "long", "double"}),
    "long": frozenset({"long", "double"}),
    "float": frozenset({"float", "double"}),
    "double": frozenset({"double"}),
    "string": frozenset({"string"}),
    "binary": frozenset({"binary"}),
    "datetime": frozenset({"datetime"}),
}


@dataclass(frozen=True, slots=True)
class ColSpec:
    """One input or output column: its type (``long``, ``double``, ``string`` ...) and name."""

    type: str
    name: str | None = None
    required: bool = True

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            where = f"column {self.name!r}" if self.name is not None else "a column"
            raise InvalidArgument(
                f"Unsupported type {self.type!r} for {where}: use one of {', '.join(COLUMN_TYPES)}."
            )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One tensor: NumPy dtype name and shape (``-1`` where any size goes)."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        try:
            np.dtype(self.dtype)
        except TypeError as exc:
            raise InvalidArgument(f"Unknown tensor dtype {self.dtype!r}.") from exc
        if any(not isinstance(d, int) or d < -1 for d in self.shape):
            raise InvalidArgument(f"Tensor shape {list(self.shape)} must hold sizes or -1.")

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)},
        }
        if self.name is not None:
            out["name"] = self.name
        return out


Spec = ColSpec | TensorSpec


@dataclass(frozen=True, slots=True)
class Schema:
    """An ordered list of columns, or of tensors (never both)."""

    inputs: tuple[Spec, ...]

    def __post_init__(self) -> None:
        if not self.inputs:
            raise InvalidArgument("A schema needs at least one column or tensor.")
        kinds = {type(spec) for spec in self.inputs}
        if len(kinds) > 1:
            raise InvalidArgument("A schema holds columns or tensors, not both.")
        names = [spec.name for spec in self.inputs]
        named = [n for n in names if n is not None]
        if named and len(named) != len(names):
            raise InvalidArgument("Name every column or tensor of a schema, or none of them.")
        if len(set(named)) != len(named):
            duplicates = sorted({n for n in named if named.count(n) > 1})
            raise InvalidArgument(f"Duplicate names in a schema: {duplicates}.")

    @property
    def is_tensor(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    @property
    def has_names(self) -> bool:
        return self.inputs[0].name is not None

    def names(self) -> list[str | None]:
        return [spec.name for spec in self.inputs]

    def to_json(self) -> str:
        return json.dumps([spec.to_dict() for spec in self.inputs])

    @classmethod
    def from_json(cls, text: str | Sequence[Mapping[str, Any]]) -> Schema:
        """Parse MLflow's JSON list of column or tensor specs."""
        try:
            items = json.loads(text) if isinstance(text, str) else list(text)
        except (ValueError, TypeError) as exc:
            raise InvalidArgument(f"Malformed schema JSON: {exc}.") from exc
        if not isinstance(items, list):
            raise InvalidArgument("A schema is a JSON list of column or tensor specs.")
        return cls(tuple(_spec_from_dict(item) for item in items))


def _spec_from_dict(item: object) -> Spec:
    if not isinstance(item, Mapping) or "type" not in item:
        raise InvalidArgument(f"Malformed schema entry {item!r:.200}: it needs a 'type'.")
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidArgument(f"Schema entry names must be strings, got {name!r:.100}.")
    if item["type"] == "tensor":
        spec = item.get("tensor-spec")
        if not isinstance(spec, Mapping) or "dtype" not in spec or "shape" not in spec:
            raise InvalidArgument(f"Tensor entry {item!r:.200} needs a dtype and a shape.")
        return TensorSpec(str(spec["dtype"]), tuple(spec["shape"]), name)
    if not isinstance(item["type"], str):
        raise InvalidArgument(f"Malformed schema entry {item!r:.200}: 'type' is not a string.")
    return ColSpec(item["type"], name, bool(item.get("required", True)))


@dataclass(frozen=True, slots=True)
class Signature:
    """What a model takes (``inputs``) and returns (``outputs``, optional)."""

    inputs: Schema
    outputs: Schema | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``signature`` mapping of ``MLmodel``: schemas as JSON strings, like MLflow."""
        return {
            "inputs": self.inputs.to_json(),
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        if not isinstance(data, Mapping) or not data.get("inputs"):
            raise InvalidArgument("A signature needs an 'inputs' schema.")
        outputs = data.get("outputs")
        return cls(Schema.from_json(data["inputs"]), Schema.from_json(outputs) if outputs else None)


def as_signature(value: Signature | Mapping[str, Any] | None) -> Signature | None:
    """A ``Signature`` from itself, its ``to_dict`` form, or None."""
    if value is None or isinstance(value, Signature):
        return value
    if isinstance(value, Mapping):
        return Signature.from_dict(value)
    raise InvalidArgument(
        f"signature must be a loopml Signature or its dict form, not {type(value).__name__}: "
        "build one with infer_signature(input_example, output)."
    )


# -- inference -----------------------------------------------------------------


def infer_signature(input_example: Any, output: Any = None) -> Signature:
    """The signature of a model from an example of its input (and output).

    A DataFrame (or a dict of lists, or a list of dicts) gives named columns,
    a NumPy array a tensor whose first dimension is ``-1`` (any batch size).
    """
    if input_example is None:
        raise InvalidArgument("infer_signature needs an input example.")
    outputs = infer_schema(output, "output") if output is not None else None
    return Signature(infer_schema(input_example, "input"), outputs)


def infer_schema(data: Any, what: str = "input") -> Schema:
    """The schema of one example: columns for tabular data, a tensor for an array."""
    if isinstance(data, pd.DataFrame):
        return _frame_schema(data, what)
    if isinstance(data, pd.Series):
        return Schema((ColSpec(_column_type(data, data.name, what), _series_name(data)),))
    if isinstance(data, Mapping) or (
        isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data)
    ):
        return _frame_schema(to_frame(data), what)
    if isinstance(data, np.ndarray | list | tuple):
        array = np.asarray(data)
        if array.ndim == 0:
            raise InvalidArgument(f"The {what} example is a scalar: give an array or a table.")
        return Schema((TensorSpec(_tensor_dtype(array.dtype), (-1, *array.shape[1:])),))
    raise InvalidArgument(
        f"Cannot infer a schema from a {type(data).__name__} {what} example: give a pandas "
        "DataFrame, a dict of lists, a list of dicts or a NumPy array."
    )


def to_frame(data: Mapping[str, Any] | list[Mapping[str, Any]]) -> pd.DataFrame:
    """A DataFrame from a dict of lists (or of scalars: one row) or a list of dicts."""
    try:
        if isinstance(data, Mapping):
            if data and all(np.ndim(v) == 0 for v in data.values()):
                return pd.DataFrame({k: [v] for k, v in data.items()})
            return pd.DataFrame(dict(data))
        return pd.DataFrame.from_records(list(data))
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"Cannot read the input as a table: {exc}.") from exc


def _frame_schema(frame: pd.DataFrame, what: str) -> Schema:
    if frame.shape[1] == 0:
        raise InvalidArgument(f"The {what} example has no columns.")
    specs = []
    for name in frame.columns:
        if not isinstance(name, str):
            raise InvalidArgument(
                f"Column names must be strings; the {what} example has column {name!r}."
            )
        specs.append(ColSpec(_column_type(frame[name], name, what), name))
    return Schema(tuple(specs))


def _series_name(series: pd.Series) -> str | None:
    return series.name if isinstance(series.name, str) else None


def _column_type(series: pd.Series, name: object, what: str) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _column_type(series.astype(dtype.categories.dtype), name, what)
    kind = dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer" if dtype.itemsize < 4 or (kind == "i" and dtype.itemsize == 4) else "long"
    if kind == "f":
        return "float" if dtype.itemsize <= 4 else "double"
    if kind == "M":
        return "datetime"
    if kind in "OSU":
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        found = _INFERRED.get(inferred)
        if found:
            return found
        detail = f"values of kind {inferred!r}"
    else:
        detail = f"dtype {dtype}"
    raise InvalidArgument(
        f"Column {name!r} of the {what} example has {detail}, which a signature cannot "
        "describe: use numbers, booleans, strings, bytes or datetimes."
    )


_INFERRED = {
    "string": "string",
    "empty": "string",
    "bytes": "binary",
    "boolean": "boolean",
    "integer": "long",
    "floating": "double",
    "mixed-integer-float": "double",
    "datetime64": "datetime",
    "datetime": "datetime",
    "date": "datetime",
}


def _tensor_dtype(dtype: np.dtype) -> str:
    if dtype.kind == "U":
        return "str"
    if dtype.kind == "S":
        return "bytes"
    return dtype.name


# -- compatibility ---------------------------------------------------------------


def signature_problems(
    old: Signature | Mapping[str, Any] | None, new: Signature | Mapping[str, Any] | None
) -> list[str]:
    """Why ``new`` cannot replace ``old`` as a drop-in; empty when it can.

    Callers of the old model keep sending what its input schema declared. The
    new one must take exactly those columns (an optional new column is fine),
    each with the same type or a type that widens it without loss
    (``integer`` -> ``long`` -> ``double``, ``float`` -> ``double``).
    Outputs are not compared. An old model without a signature promised
    nothing, so anything replaces it. A signature that cannot be read is a
    problem (returned, not raised), so a gate reports it.
    """
    try:
        before, after = as_signature(old), as_signature(new)
    except InvalidArgument as exc:
        return [f"a signature cannot be read: {exc.message}"]
    if before is None:
        return []
    if after is None:
        return ["the new model has no signature, the current one has one"]
    if before.inputs.is_tensor != after.inputs.is_tensor:
        kinds = ("tensors", "columns")
        return [
            f"the current model takes {kinds[not before.inputs.is_tensor]}, the new one "
            f"takes {kinds[not after.inputs.is_tensor]}"
        ]
    if before.inputs.is_tensor:
        return _tensor_problems(before.inputs, after.inputs)
    return _column_problems(before.inputs, after.inputs)


def _column_problems(old: Schema, new: Schema) -> list[str]:
    olds = {_key(i, s): s for i, s in enumerate(old.inputs)}
    news = {_key(i, s): s for i, s in enumerate(new.inputs)}
    problems = []
    for key, before in olds.items():
        after = news.get(key)
        if after is None:
            problems.append(f"column {key!r} is no longer accepted")
            continue
        assert isinstance(before, ColSpec) and isinstance(after, ColSpec)
        if after.type not in _WIDENS_TO[before.type]:
            problems.append(
                f"column {key!r} changes type from {before.type} to {after.type}, which does "
                "not take every value of the old type"
            )
        if after.required and not before.required:
            problems.append(f"column {key!r} becomes required")
    for key, after in news.items():
        if key not in olds and isinstance(after, ColSpec) and after.required:
            problems.append(f"column {key!r} is new and required")
    return problems


def _tensor_problems(old: Schema, new: Schema) -> list[str]:
    if len(old.inputs) != len(new.inputs):
        return [f"the model took {len(old.inputs)} tensors, the new one takes {len(new.inputs)}"]
    problems = []
    for index, (before, after) in enumerate(zip(old.inputs, new.inputs, strict=True)):
        assert isinstance(before, TensorSpec) and isinstance(after, TensorSpec)
        label = repr(before.name) if before.name is not None else f"#{index}"
        if before.name != after.name:
            problems.append(f"tensor {label} is now named {after.name!r}")
        if not np.can_cast(before.numpy_dtype, after.numpy_dtype, casting="safe"):
            problems.append(f"tensor {label} changes dtype from {before.dtype} to {after.dtype}")
        if len(before.shape) != len(after.shape) or any(
            a not in (-1, b) for b, a in zip(before.shape, after.shape, strict=True)
        ):
            problems.append(
                f"tensor {label} changes shape from {list(before.shape)} to {list(after.shape)}"
            )
    return problems


def _key(index: int, spec: Spec) -> str:
    return spec.name if spec.name is not None else f"#{index}"
