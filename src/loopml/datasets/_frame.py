"""A registered tabular dataset version, read back as a DataFrame from the object store.

Monitors compare live traffic with the data a model was trained on; that
data is a dataset version's content (a CSV or Parquet blob, or a tree of
Parquet files), read here straight from the object store without a
checkout. Non-tabular versions are refused with a clear error.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from loopml.core.errors import InvalidArgument
from loopml.data._tabular import table_format
from loopml.objects import ObjectStore
from loopml.store.dataset_records import DatasetVersion

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def _read(data: bytes, fmt: str, columns: Sequence[str] | None) -> pa.Table:
    import pyarrow.csv
    import pyarrow.parquet

    if fmt == "parquet":
        return pyarrow.parquet.read_table(io.BytesIO(data), columns=columns)
    options = pyarrow.csv.ConvertOptions(include_columns=list(columns) if columns else None)
    return pyarrow.csv.read_csv(io.BytesIO(data), convert_options=options)


def read_version_frame(
    objects: ObjectStore, version: DatasetVersion, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The rows of a tabular dataset version (only ``columns`` when given)."""
    import pyarrow as pa

    if version.schema is None:
        raise InvalidArgument(
            f"Dataset {version.name}@{version.version} is not tabular (CSV or Parquet), so it "
            "cannot serve as reference data: register a CSV or Parquet version."
        )
    if columns is not None:
        missing = [c for c in columns if c not in version.schema]
        if missing:
            raise InvalidArgument(
                f"Dataset {version.name}@{version.version} has no column(s) {missing}; it has "
                f"{list(version.schema)}."
            )
    if version.kind == "file":
        fmt = table_format(version.source) or "parquet"
        table = _read(objects.get_bytes(version.content_id), fmt, columns)
    else:
        tree = objects.get_tree(version.content_id)
        parts = [
            _read(objects.get_bytes(entry.id), "parquet", columns)
            for path, entry in sorted(tree.items())
            if table_format(path) == "parquet"
        ]
        table = pa.concat_tables(parts, promote_options="permissive")
    return table.to_pandas()
