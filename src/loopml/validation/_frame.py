"""Reading the data to validate, and the one rule for what kind a column is.

Profiles, schemas and checks all ask "is this column numeric?"; they ask here,
so a column is never numeric for the profile and categorical for a check.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from loopml.core.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Kind = Literal["numeric", "categorical", "boolean", "datetime"]
KINDS: tuple[Kind, ...] = ("numeric", "categorical", "boolean", "datetime")

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".tsv")


def load_frame(data: Any) -> pd.DataFrame:
    """``data`` as a DataFrame: a DataFrame as is, or a Parquet/CSV file or Parquet folder.

    Files are read with pyarrow (the ``data`` extra); unreadable files raise
    ``InvalidArgument`` and missing ones ``NotFound``, never a pyarrow error.
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if not isinstance(data, str | Path):
        raise InvalidArgument(
            f"Cannot validate a {type(data).__name__}: pass a pandas DataFrame or the path"
            " of a Parquet or CSV file."
        )
    path = Path(data)
    if not path.exists():
        raise NotFound(f"Data file {str(path)!r} does not exist: check the path.")
    name = path.name.lower()
    try:
        import pyarrow as pa
    except ImportError:
        raise InvalidArgument(
            "Reading Parquet or CSV files needs pyarrow: pip install 'loopml[data]'."
        ) from None
    try:
        if path.is_dir() or name.endswith(_PARQUET):
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pandas()
        if name.endswith(_CSV):
            import pyarrow.csv as pcsv

            delimiter = "\t" if name.endswith(".tsv") else ","
            table = pcsv.read_csv(
                path,
                parse_options=pcsv.ParseOptions(delimiter=delimiter),
                convert_options=pcsv.ConvertOptions(strings_can_be_null=True),  # as pandas
            )
            return table.to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise InvalidArgument(f"Cannot read {str(path)!r}: {exc}") from None
    raise InvalidArgument(
        f"Unknown data format for {str(path)!r}: use a .parquet, .pq, .csv or .tsv file,"
        " or a folder of Parquet files."
    )


def column_kind(series: pd.Series) -> Kind:
    """numeric, boolean, datetime or categorical (anything else: strings, mixed objects)."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_object_dtype(dtype):
        # pyarrow turns a boolean or integer column with nulls into objects
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return "boolean"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "numeric"
        if inferred in ("datetime", "datetime64", "date"):
            return "datetime"
    return "categorical"


def numeric_values(series: pd.Series) -> np.ndarray:
    """The non-missing values of a numeric or boolean column as float64."""
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return values[~np.isnan(values)]


def plain(value: Any) -> Any:
    """A JSON-able Python value: numpy scalars unwrapped, NaN as None, times as ISO text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and infinities are not JSON
    return value
