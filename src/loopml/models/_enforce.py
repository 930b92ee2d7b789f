"""Signature enforcement: turn what a caller passes into what the model was built for.

A plan is made once, when a model is loaded, from its input schema; each
``predict`` then runs only the plan. For a DataFrame whose columns and
dtypes already match, that is one comparison of names and one of dtypes: no
copy. Otherwise every column is checked and converted when the conversion
loses no value:

* integers widen to wider integers and to floats (as long as the values are
  exactly representable), ``float32`` widens to ``float64``;
* floats become integers only when every value is a whole number;
* ``float64`` narrows to ``float32`` when the values fit (JSON has only
  doubles, and a float32 model computes in float32 anyway);
* datetimes of any precision are taken, ISO 8601 strings are parsed;
* booleans stay booleans, strings stay strings.

Anything else (strings for numbers, fractions for integers, missing values
for integers, a missing column, a column the model does not know) is an
``InvalidArgument`` that names the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.models._signature import (
    COLUMN_TYPES,
    NUMERIC_TYPES,
    ColSpec,
    Schema,
    TensorSpec,
    to_frame,
)

_FLOAT_EXACT_BITS = {4: 24, 8: 53, 2: 11}  # mantissa bits: integers exactly representable
_INSPECT = frozenset({"string", "binary"})
_OBJECT = np.dtype(object)


class NoSchemaPlan:
    """A model without a signature: tables become DataFrames, the rest passes as is."""

    def __call__(self, data: Any) -> Any:
        if isinstance(data, Mapping) or (
            isinstance(data, list) and data and isinstance(data[0], Mapping)
        ):
            return to_frame(data)
        return data


class ColumnPlan:
    """Checks and converts tabular input against a schema of columns."""

    def __init__(self, schema: Schema) -> None:
        specs = [spec for spec in schema.inputs if isinstance(spec, ColSpec)]
        self._specs = specs
        self._positional = not schema.has_names
        self._names = [spec.name if spec.name is not None else i for i, spec in enumerate(specs)]
        self._known = set(self._names)
        self._required = [n for n, s in zip(self._names, specs, strict=True) if s.required]
        self._fast = [COLUMN_TYPES[s.type] for s in specs]
        # Object columns declared string or binary are looked into on every call.
        self._inspect = any(s.type in _INSPECT for s in specs)
        self._described = ", ".join(
            f"{n} ({s.type})" for n, s in zip(self._names, specs, strict=True)
        )

    def __call__(self, data: Any) -> pd.DataFrame:
        frame = self._frame(data)
        if self._positional:
            frame = self._by_position(frame)
        columns = frame.columns.tolist()
        if columns == self._names:
            specs, fast = self._specs, self._fast
        else:
            frame, specs = self._select(frame, columns)
            fast = [COLUMN_TYPES[s.type] for s in specs]
        dtypes = frame.dtypes.tolist()
        if dtypes == fast and not self._inspect:
            return frame  # the hot path: already what the model takes
        changed: dict[Any, pd.Series] = {}
        for spec, name, dtype, want in zip(specs, frame.columns, dtypes, fast, strict=True):
            if dtype == want and spec.type not in _INSPECT:
                continue
            series = frame[name]
            conformed = conform_series(name, series, spec.type)
            if conformed is not series:
                changed[name] = conformed
        if not changed:
            return frame
        out = frame.copy(deep=False)
        for name, series in changed.items():
            out[name] = series
        return out

    def _frame(self, data: Any) -> pd.DataFrame:
        if isinstance(data, pd.DataFrame):
            return data
        if isinstance(data, pd.Series):
            return data.to_frame()
        if isinstance(data, Mapping) or (isinstance(data, list) and data and _all_maps(data)):
            return to_frame(data)
        if isinstance(data, np.ndarray | list | tuple):
            array = np.asarray(data)
            if array.ndim == 1 and len(self._names) == 1:
                array = array.reshape(-1, 1)
            if array.ndim == 2 and array.shape[1] == len(self._names):
                return pd.DataFrame(array, columns=self._names)
            raise InvalidArgument(
                f"The input is an array of shape {list(array.shape)}; the model's signature "
                f"takes {len(self._names)} columns: {self._described}. Pass a DataFrame, or "
                f"an array with {len(self._names)} columns in that order."
            )
        raise InvalidArgument(
            f"Cannot predict on a {type(data).__name__}: pass a DataFrame, a dict of lists, a "
            "list of dicts or a NumPy array."
        )

    def _by_position(self, frame: pd.DataFrame) -> pd.DataFrame:
        if frame.shape[1] != len(self._names):
            raise InvalidArgument(
                f"The input has {frame.shape[1]} columns; the model's signature takes "
                f"{len(self._names)}: {self._described}."
            )
        if frame.columns.tolist() == self._names:
            return frame
        renamed = frame.copy(deep=False)
        renamed.columns = self._names
        return renamed

    def _select(
        self, frame: pd.DataFrame, columns: list[Any]
    ) -> tuple[pd.DataFrame, list[ColSpec]]:
        present = set(columns)
        missing = [n for n in self._required if n not in present]
        if missing:
            raise InvalidArgument(
                f"Missing column {missing[0]!r}"
                + (f" (and {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else "")
                + f": the model's signature requires it. It takes {self._described}."
            )
        extra = [c for c in columns if c not in self._known]
        if extra:
            raise InvalidArgument(
                f"Unexpected column {extra[0]!r}"
                + (f" (and {', '.join(map(repr, extra[1:]))})" if len(extra) > 1 else "")
                + f": the model's signature does not take it. It takes {self._described}; "
                "drop the others before predicting."
            )
        if len(set(columns)) != len(columns):
            twice = sorted({str(c) for c in columns if columns.count(c) > 1})
            raise InvalidArgument(f"Column {twice[0]!r} appears more than once in the input.")
        keep = [(n, s) for n, s in zip(self._names, self._specs, strict=True) if n in present]
        return frame[[n for n, _ in keep]], [s for _, s in keep]


class TensorPlan:
    """Checks and converts array input against a schema of tensors."""

    def __init__(self, schema: Schema) -> None:
        self._specs = [spec for spec in schema.inputs if isinstance(spec, TensorSpec)]
        self._single = len(self._specs) == 1

    def __call__(self, data: Any) -> Any:
        if self._single:
            spec = self._specs[0]
            if isinstance(data, Mapping) and spec.name is not None and spec.name in data:
                if len(data) != 1:
                    raise _extra_tensors(data, [spec.name])
                data = data[spec.name]
            return conform_tensor(spec, data)
        if not isinstance(data, Mapping | pd.DataFrame):
            names = ", ".join(repr(s.name) for s in self._specs)
            raise InvalidArgument(
                f"The model takes {len(self._specs)} named tensors ({names}): pass a dict of "
                "arrays keyed by those names."
            )
        wanted = [str(s.name) for s in self._specs]
        given = list(data.keys())
        for name in wanted:
            if name not in given:
                raise InvalidArgument(f"Missing input tensor {name!r}: the model requires it.")
        if len(given) != len(wanted):
            raise _extra_tensors(data, wanted)
        return {s.name: conform_tensor(s, np.asarray(data[s.name])) for s in self._specs}


def _extra_tensors(data: Any, names: list[str]) -> InvalidArgument:
    extra = [k for k in data if k not in names]
    return InvalidArgument(
        f"Unexpected input tensor {extra[0]!r}: the model takes {', '.join(map(repr, names))}."
    )


def make_plan(schema: Schema | None) -> NoSchemaPlan | ColumnPlan | TensorPlan:
    """The checking plan for an input schema (None: no checks)."""
    if schema is None:
        return NoSchemaPlan()
    return TensorPlan(schema) if schema.is_tensor else ColumnPlan(schema)


def _all_maps(items: list[Any]) -> bool:
    return all(isinstance(item, Mapping) for item in items)


# -- columns --------------------------------------------------------------------


def conform_series(name: Any, series: pd.Series, type_: str) -> pd.Series:
    """``series`` as the declared column type, or InvalidArgument naming the column."""
    dtype = series.dtype
    if type_ in NUMERIC_TYPES:
        values = _numeric_values(name, series, type_)
        converted = conform_values(f"Column {name!r}", values, COLUMN_TYPES[type_], type_)
        if converted is values and dtype == COLUMN_TYPES[type_]:
            return series
        return pd.Series(converted, index=series.index, name=series.name)
    if type_ == "boolean":
        if dtype == np.dtype(bool):
            return series
        if dtype.kind == "b" or (
            dtype == _OBJECT and pd.api.types.infer_dtype(series, skipna=False) == "boolean"
        ):
            if series.isna().any():
                raise _bad(name, "has missing values", type_)
            return series.astype(bool)
        raise _bad(name, f"holds {_what(series)}", type_)
    if type_ == "string":
        if isinstance(dtype, pd.StringDtype):
            return series
        if dtype.kind in "OU" and pd.api.types.infer_dtype(series, skipna=True) in (
            "string",
            "empty",
        ):
            return series
        raise _bad(name, f"holds {_what(series)}", type_)
    if type_ == "binary":
        if dtype == _OBJECT and pd.api.types.infer_dtype(series, skipna=True) in ("bytes", "empty"):
            return series
        raise _bad(name, f"holds {_what(series)}", type_)
    # datetime
    if dtype.kind == "M":
        return series
    if dtype.kind in "OU" or isinstance(dtype, pd.StringDtype):
        try:
            return pd.to_datetime(series, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise _bad(
                name, f"holds values that are not ISO 8601 datetimes ({exc})", type_
            ) from exc
    raise _bad(name, f"holds {_what(series)}", type_)


def _numeric_values(name: Any, series: pd.Series, type_: str) -> np.ndarray:
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) or (
        dtype.kind in "OU" and pd.api.types.infer_dtype(series, skipna=True) == "string"
    ):
        raise _bad(name, "holds strings", type_)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iufb":
        if series.isna().any():
            if COLUMN_TYPES[type_].kind != "f" or dtype.kind == "b":
                raise _bad(name, "has missing values", type_)
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return series.to_numpy(dtype=dtype.numpy_dtype)
    if dtype == _OBJECT:
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "integer" and not series.isna().any():
            return series.to_numpy(dtype=np.int64)
        if inferred in ("integer", "floating", "mixed-integer-float", "empty"):
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        raise _bad(name, f"holds {inferred} values", type_)
    return series.to_numpy()


def conform_values(label: str, values: np.ndarray, target: np.dtype, declared: str) -> np.ndarray:
    """Numeric ``values`` as ``target`` when no value changes; else InvalidArgument."""
    source = values.dtype
    if source == target:
        return values
    kind = source.kind
    if kind == "b":
        raise InvalidArgument(f"{label} holds booleans where the signature declares {declared}.")
    if kind not in "iuf":
        raise InvalidArgument(
            f"{label} holds {source} values where the signature declares {declared}."
        )
    if np.can_cast(source, target, casting="safe"):
        return values.astype(target)
    if target.kind == "f":
        if kind == "f":  # float64 -> float32: the values must fit
            finite = values[np.isfinite(values)]
            if finite.size and np.abs(finite).max() > np.finfo(target).max:
                raise InvalidArgument(
                    f"{label} has values too large for {declared} (largest "
                    f"{np.abs(finite).max():g})."
                )
            return values.astype(target)
        limit = 2 ** _FLOAT_EXACT_BITS[target.itemsize]
        if values.size and np.abs(values.astype(np.float64)).max() > limit:
            raise InvalidArgument(
                f"{label} has integers too large to be exact in {declared} (beyond {limit})."
            )
        return values.astype(target)
    # an integer target
    if kind == "f":
        if np.isnan(values).any():
            raise InvalidArgument(
                f"{label} has missing values, which {declared} cannot hold: declare the "
                "column as double in the signature if it can be missing."
            )
        fractional = values[np.mod(values, 1) != 0]
        if fractional.size:
            raise InvalidArgument(
                f"{label} has values with fractions (e.g. {fractional[0]:g}) where the "
                f"signature declares {declared}; refusing to truncate them."
            )
    if values.size:
        info = np.iinfo(target)
        low, high = values.min(), values.max()
        if low < info.min or high > info.max:
            raise InvalidArgument(
                f"{label} has values outside the range of {declared} ({low:g} to {high:g})."
            )
    return values.astype(target)


def _bad(name: Any, problem: str, type_: str) -> InvalidArgument:
    return InvalidArgument(
        f"Column {name!r} {problem}, but the model's signature declares it {type_}."
    )


def _what(series: pd.Series) -> str:
    if isinstance(series.dtype, pd.StringDtype):
        return "strings"
    if series.dtype == _OBJECT:
        return f"{pd.api.types.infer_dtype(series, skipna=True)} values"
    return f"{series.dtype} values"


# -- tensors ---------------------------------------------------------------------


def conform_tensor(spec: TensorSpec, data: Any) -> np.ndarray:
    """``data`` as an array of the spec's dtype and shape, or InvalidArgument."""
    label = f"Input tensor {spec.name!r}" if spec.name is not None else "The input tensor"
    if isinstance(data, pd.DataFrame | pd.Series):
        data = data.to_numpy()
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"{label} is not a regular array: {exc}.") from exc
    expected = spec.shape
    if array.ndim != len(expected) or any(
        want not in (-1, got) for want, got in zip(expected, array.shape, strict=True)
    ):
        raise InvalidArgument(
            f"{label} has shape {list(array.shape)}; the signature declares "
            f"{list(expected)} (-1: any size)."
        )
    target = spec.numpy_dtype
    if target.kind in "biuf":
        if target.kind == "b":
            if array.dtype != target:
                raise InvalidArgument(
                    f"{label} holds {array.dtype} values; the signature declares bool."
                )
            return array
        return conform_values(label, array, target, spec.dtype)
    return array
