"""The input example: stored as ``input_example.json`` the way MLflow stores it.

Tables are written in pandas' ``split`` orient (``{"columns": [...],
"data": [[...]]}``, no index), arrays as nested lists; the manifest's
``saved_input_example_info`` says which, so MLflow reads loopml's example
and the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.models._manifest import inside
from loopml.models._signature import to_frame

EXAMPLE_FILE = "input_example.json"


def is_table(example: Any) -> bool:
    return isinstance(example, pd.DataFrame | pd.Series | Mapping) or (
        isinstance(example, list) and bool(example) and isinstance(example[0], Mapping)
    )


def as_table_or_array(example: Any) -> pd.DataFrame | np.ndarray:
    """The example as a DataFrame (tabular inputs) or a NumPy array."""
    if isinstance(example, pd.DataFrame):
        return example
    if isinstance(example, pd.Series):
        return example.to_frame()
    if is_table(example):
        return to_frame(example)
    try:
        return np.asarray(example)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"The input example is not a table or an array: {exc}.") from exc


def write_example(folder: Path, example: pd.DataFrame | np.ndarray) -> dict[str, Any]:
    """Write ``input_example.json``; return the manifest's ``saved_input_example_info``."""
    path = folder / EXAMPLE_FILE
    try:
        if isinstance(example, pd.DataFrame):
            text = example.to_json(orient="split", index=False, date_format="iso")
            info = {"artifact_path": EXAMPLE_FILE, "type": "dataframe", "pandas_orient": "split"}
        else:
            text = json.dumps(example.tolist(), allow_nan=False)
            info = {"artifact_path": EXAMPLE_FILE, "type": "ndarray", "format": "tf-serving"}
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgument(f"The input example cannot be written as JSON: {exc}.") from exc
    path.write_text(text, encoding="utf-8")
    return info


def read_example(folder: Path, info: Mapping[str, Any] | None) -> pd.DataFrame | np.ndarray | None:
    """The stored input example, or None when the model has none."""
    if not info or not info.get("artifact_path"):
        return None
    path = inside(folder, info["artifact_path"], "input example")
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"The input example {path.name!r} is not valid JSON: {exc}.") from exc
    if info.get("type") == "dataframe":
        if isinstance(data, Mapping) and "dataframe_split" in data:
            data = data["dataframe_split"]
        if not isinstance(data, Mapping) or "data" not in data:
            raise InvalidArgument(f"The input example {path.name!r} is not a split-orient table.")
        return pd.DataFrame(data["data"], columns=data.get("columns"))
    if isinstance(data, Mapping) and "inputs" in data:
        data = data["inputs"]
    return np.asarray(data)
