"""``TrainingSet``: the rows of a point-in-time join, and what they were built from.

A training set knows which features it holds (``"view:feature"``) and a
digest of each view's source content as it was read, so registering it as a
dataset version records exactly which features and which data a run trained
on: the version's tags hold both, as JSON.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.core.errors import StorageError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from loopml.store.dataset_records import DatasetVersion
    from loopml.tracking import Client

FEATURES_TAG = "loopml.features"
"""Dataset version tag: the JSON list of ``view:feature`` references the set holds."""
SOURCES_TAG = "loopml.feature_sources"
"""Dataset version tag: the JSON map of view name to the digest of its source content."""


class TrainingSet:
    """Entity rows with their point-in-time correct feature values."""

    def __init__(
        self,
        table: pa.Table,
        features: Sequence[str],
        source_versions: dict[str, str],
        *,
        client_factory: Callable[[], Client] | None = None,
    ) -> None:
        self._table = table
        self.features: list[str] = list(features)
        """The ``view:feature`` references the set holds, in column order."""
        self.source_versions: dict[str, str] = dict(source_versions)
        """Each view's source content digest (a dataset source: its version's content id)."""
        self._client_factory = client_factory

    def __len__(self) -> int:
        return self._table.num_rows

    def __repr__(self) -> str:
        return f"TrainingSet(rows={len(self)}, features={self.features!r})"

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table (no copy)."""
        return self._table

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (missing values as NaN/None/NaT)."""
        return self._table.to_pandas()

    def register(self, name: str, description: str = "") -> DatasetVersion:
        """Register the rows as the next version of dataset ``name`` (Parquet).

        The version's tags record the features and source digests, so a run
        that logs this version as its input says what it trained on. The same
        rows registered again return the existing version.
        """
        import pyarrow.parquet as pq

        from loopml.datasets import Datasets

        datasets = Datasets(self._client_factory() if self._client_factory else None)
        tags = {
            FEATURES_TAG: json.dumps(self.features),
            SOURCES_TAG: json.dumps(self.source_versions, sort_keys=True),
        }
        with tempfile.TemporaryDirectory(prefix="loopml-training-set-") as folder:
            path = Path(folder) / "training_set.parquet"
            try:
                pq.write_table(self._table, path)
            except OSError as exc:
                raise StorageError(f"Cannot write the training set: {exc}") from exc
            return datasets.register(name, path, description=description, tags=tags)
