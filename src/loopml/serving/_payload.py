"""What a parsed request holds, and how requests join into a batch and split back.

A request becomes one of three shapes:

* ``Table``: named numeric columns in one 2-D array (the common JSON case,
  built without pandas, which costs more than the model on a single row);
* a pandas ``DataFrame`` (mixed types, CSV);
* a NumPy array (a tensor: ``instances``/``inputs`` lists, V2 tensors).

A batch concatenates the requests of one shape; predictions are cut back
into per-request slices by row counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class Table:
    """Named columns of one numeric 2-D array (rows x columns)."""

    columns: tuple[str, ...]
    values: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.values, columns=list(self.columns))


Payload: TypeAlias = Table | pd.DataFrame | np.ndarray


def row_count(payload: Payload) -> int:
    if isinstance(payload, Table):
        return payload.rows
    if isinstance(payload, pd.DataFrame):
        return len(payload.index)
    return int(payload.shape[0]) if payload.ndim else 1


def to_native(payload: Payload) -> pd.DataFrame | np.ndarray:
    """The input a ``LoadedModel`` takes."""
    return payload.to_frame() if isinstance(payload, Table) else payload


def concat(payloads: Sequence[Payload]) -> Payload:
    """One input holding every request's rows, in order."""
    if len(payloads) == 1:
        return payloads[0]
    first = payloads[0]
    if isinstance(first, Table) and all(
        isinstance(p, Table) and p.columns == first.columns for p in payloads
    ):
        return Table(first.columns, np.concatenate([p.values for p in payloads]))  # type: ignore[union-attr]
    if isinstance(first, np.ndarray) and all(
        isinstance(p, np.ndarray) and p.shape[1:] == first.shape[1:] for p in payloads
    ):
        return np.concatenate(payloads)  # type: ignore[arg-type]
    frames = [to_native(p) for p in payloads]
    if all(isinstance(f, pd.DataFrame) for f in frames):
        return pd.concat(frames, ignore_index=True)
    raise ValueError("requests of different shapes")  # the caller predicts them one by one


def split(predictions: Any, counts: Sequence[int]) -> list[Any]:
    """``predictions`` for the whole batch cut into one slice per request."""
    if len(counts) == 1:
        return [predictions]
    if isinstance(predictions, pd.DataFrame | pd.Series):
        total = len(predictions.index)
        take = predictions.iloc
    elif isinstance(predictions, np.ndarray):
        total = int(predictions.shape[0]) if predictions.ndim else 0
        take = predictions
    elif isinstance(predictions, list | tuple):
        total = len(predictions)
        take = predictions
    else:
        raise ValueError(f"the model returned a {type(predictions).__name__}, not rows")
    if total != sum(counts):
        raise ValueError(f"the model returned {total} rows for {sum(counts)} inputs")
    out = []
    start = 0
    for count in counts:
        out.append(take[start : start + count])
        start += count
    return out


def jsonable(predictions: Any) -> Any:
    """Predictions as MLflow's scoring server writes them (DataFrames as records)."""
    if isinstance(predictions, np.ndarray):
        return predictions.tolist()
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return pd.DataFrame(predictions).to_dict(orient="records")
    if isinstance(predictions, tuple):
        return list(predictions)
    return predictions


def columns_of(payload: Payload) -> dict[str, list[Any]]:
    """Column name -> values, for the prediction log (tensors: ``input`` or ``input_<i>``)."""
    if isinstance(payload, Table):
        return {c: payload.values[:, i].tolist() for i, c in enumerate(payload.columns)}
    if isinstance(payload, pd.DataFrame):
        return {str(c): payload[c].tolist() for c in payload.columns}
    if payload.ndim == 2:
        return {f"input_{i}": payload[:, i].tolist() for i in range(payload.shape[1])}
    return {"input": payload.tolist()}


def rows_of(predictions: Any) -> list[Any]:
    """One JSON-able prediction per row, for the prediction log."""
    value = jsonable(predictions)
    return value if isinstance(value, list) else [value]
