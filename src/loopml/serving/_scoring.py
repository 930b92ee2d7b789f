"""MLflow's scoring protocol (``POST /invocations``): request bodies into payloads.

The accepted bodies are those of ``mlflow models serve`` (mlflow 3.x): JSON
with exactly one of ``dataframe_split``, ``dataframe_records``, ``instances``
or ``inputs`` (``params`` accepted and ignored), or ``text/csv``. Errors are
``InvalidArgument`` naming the problem; the app answers them with MLflow's
``{"error_code", "message"}`` and 400.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.serving._payload import Payload, Table

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_REQUIRED = (
    "The input must be a JSON object with exactly one of the input fields "
    "dataframe_split, dataframe_records, instances or inputs"
)


class UnsupportedMediaType(InvalidArgument):
    """A content type the scoring protocol does not take (answered 415)."""

    http_status = 415


def parse_invocation(body: bytes, content_type: str | None) -> Payload:
    """The payload of one ``/invocations`` request."""
    mime, _, parameters = (content_type or "application/json").partition(";")
    mime = mime.strip().lower()
    charset = _charset(parameters)
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"The scoring server only takes UTF-8 bodies, not {charset!r}.")
    if mime == "application/json":
        return parse_json(body)
    if mime == "text/csv":
        return parse_csv(body)
    raise UnsupportedMediaType(
        f"Content type {content_type!r} is not supported: send application/json or text/csv."
    )


def _charset(parameters: str) -> str:
    for part in parameters.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return "utf-8"


def loads(body: bytes) -> Any:
    """JSON from bytes (orjson); InvalidArgument saying where it is malformed."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"The body is not valid JSON: {exc}.") from None


def parse_json(body: bytes) -> Payload:
    document = loads(body)
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else f"a {type(document).__name__}"
        raise InvalidArgument(f"{_REQUIRED}. Received {kind}.")
    found = [key for key in FORMATS if key in document]
    if len(found) != 1:
        raise InvalidArgument(f"{_REQUIRED}. Received the fields {sorted(document)}.")
    unknown = sorted(set(document) - {found[0], "params"})
    if unknown:
        raise InvalidArgument(f"{_REQUIRED} (and optionally params). Unexpected fields: {unknown}.")
    key = found[0]
    value = document[key]
    if key == "dataframe_split":
        return _split(value)
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise InvalidArgument(
                f"dataframe_records must be a list of records, not a {type(value).__name__}."
            )
        return _records(value, key)
    if key == "instances":
        if not isinstance(value, list):
            raise InvalidArgument(f"instances must be a list, not a {type(value).__name__}.")
        if value and all(isinstance(item, dict) for item in value):
            return _records(value, key)
        return _array(value, key)
    # inputs: a dict of columns, or a tensor
    if isinstance(value, dict):
        return _columns(value)
    if isinstance(value, list):
        return _array(value, key)
    raise InvalidArgument(f"inputs must be an object of columns or a list, not {value!r:.100}.")


def _split(value: Any) -> Payload:
    if not isinstance(value, dict):
        raise InvalidArgument(
            f"dataframe_split must be an object with 'data' (and optionally 'columns' and "
            f"'index'), not a {type(value).__name__}."
        )
    extra = sorted(set(value) - {"columns", "data", "index"})
    if "data" not in value or extra:
        raise InvalidArgument(
            "dataframe_split must have a 'data' field and optionally 'columns' and 'index'; "
            f"got the fields {sorted(value)}."
        )
    data, columns = value["data"], value.get("columns")
    if not isinstance(data, list):
        raise InvalidArgument(f"dataframe_split.data must be a list of rows, not {data!r:.100}.")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
    ):
        raise InvalidArgument(
            f"dataframe_split.columns must be a list of names, not {columns!r:.100}."
        )
    if columns is not None and len(set(columns)) != len(columns):
        raise InvalidArgument(f"dataframe_split.columns has duplicate names: {columns!r:.200}.")
    if columns:
        table = _numeric_table(data, tuple(columns))
        if table is not None:
            return table
    try:
        return pd.DataFrame(data=data, columns=columns)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"dataframe_split is not a valid table: {exc}.") from None


def _numeric_table(rows: list[Any], columns: tuple[str, ...]) -> Table | None:
    """The rows as one numeric array, when they are a regular grid of numbers."""
    if not rows or not isinstance(rows[0], list):
        return None
    try:
        values = np.asarray(rows)
    except (ValueError, TypeError):
        return None
    if values.dtype.kind not in "iuf" or values.ndim != 2 or values.shape[1] != len(columns):
        return None
    if any(isinstance(v, bool) for v in rows[0]):  # keep booleans booleans
        return None
    return Table(columns, values)


def _records(records: list[Any], key: str) -> Payload:
    if not records:
        raise InvalidArgument(f"{key} is empty: send at least one record.")
    first = records[0]
    if isinstance(first, dict):
        names = tuple(first)
        if all(isinstance(r, dict) and tuple(r) == names for r in records) and names:
            table = _numeric_table([list(r.values()) for r in records], names)
            if table is not None:
                return table
    if not all(isinstance(r, dict) for r in records):
        raise InvalidArgument(f"{key} must be a list of objects (column -> value).")
    try:
        return pd.DataFrame.from_records(records)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"{key} is not a valid table: {exc}.") from None


def _columns(value: Mapping[str, Any]) -> Payload:
    if not value:
        raise InvalidArgument("inputs is an empty object: send column -> values.")
    lengths = set()
    for name, column in value.items():
        if not isinstance(column, list):
            raise InvalidArgument(
                f"inputs column {name!r} must be a list of values, not {column!r:.100}."
            )
        lengths.add(len(column))
    if len(lengths) != 1:
        raise InvalidArgument(f"inputs columns have different lengths: {sorted(lengths)}.")
    try:
        return pd.DataFrame(dict(value))
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"inputs is not a valid table: {exc}.") from None


def _array(value: list[Any], key: str) -> np.ndarray:
    if not value:
        raise InvalidArgument(f"{key} is empty: send at least one row.")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(
            f"{key} is not a regular array (rows of equal length): {exc}."
        ) from None
    if array.dtype == object:
        raise InvalidArgument(f"{key} mixes values of different kinds or lengths.")
    return array


def parse_csv(body: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidArgument(
            f"The body is not a CSV table (as DataFrame.to_csv writes it): {exc}."
        ) from None
    if frame.empty:
        raise InvalidArgument("The CSV body has no rows.")
    return frame
