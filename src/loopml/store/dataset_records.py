"""Frozen records of the dataset registry: named, numbered versions of stored data.

A ``DatasetVersion`` names content that lives in the object store (a blob for a
single file, a tree for a folder) by its id, with what was learnt about it at
registration: size, file count, where it came from and, for tabular data (CSV,
Parquet, a folder of Parquet files), its schema, row count and a per-column
profile. Versions are immutable; numbers start at 1 per dataset name and grow
only when the content changes. Times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATASET_SCHEME = "loopml-dataset:/"
"""The scheme of a dataset version's URI: ``loopml-dataset:/<name>/<version>``."""


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """Summary statistics of one column of a tabular dataset version.

    ``count`` is the number of present values and ``nulls`` the missing ones
    (NaN counts as missing, as in pandas). ``min``/``max``/``mean`` are given
    for numeric columns (``min``/``max`` also for temporal ones, as ISO text;
    ``mean`` of a boolean column is the share of true values); ``distinct`` is
    the number of distinct values of a string column, None when it was not
    counted (other types, or more distinct values than the profile tracks).
    """

    name: str
    type: str
    count: int
    nulls: int
    min: int | float | str | None = None
    max: int | float | str | None = None
    mean: float | None = None
    distinct: int | None = None


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a named dataset.

    ``content_id`` is the object-store id of the content (``kind`` "file": a
    blob; "dir": a tree of relative paths). ``source`` is where the data was
    read from at registration. ``schema`` maps column names (in order) to Arrow
    type names; with ``rows`` and ``profile`` it is None for non-tabular data.
    """

    name: str
    version: int
    content_id: str
    kind: str
    size: int
    files: int
    source: str
    description: str
    tags: dict[str, str]
    user: str
    creation_time: int
    schema: dict[str, str] | None = None
    rows: int | None = None
    profile: tuple[ColumnProfile, ...] | None = None

    @property
    def uri(self) -> str:
        """``loopml-dataset:/<name>/<version>``: how runs name this version as an input."""
        return f"{DATASET_SCHEME}{self.name}/{self.version}"

    @property
    def digest(self) -> str:
        """The content id, under the name MLflow gives a dataset's fingerprint."""
        return self.content_id


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset name and its newest version."""

    name: str
    creation_time: int
    last_updated_time: int
    latest: DatasetVersion


@dataclass(frozen=True, slots=True)
class NewDatasetVersion:
    """What a new version is made of: content already in the object store, and its facts.

    The store records it as the next version of the dataset, unless a version
    of that dataset already has ``content_id`` (then that version is returned).
    """

    content_id: str
    kind: str
    size: int
    files: int
    source: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    user: str = ""
    schema: dict[str, str] | None = None
    rows: int | None = None
    profile: tuple[ColumnProfile, ...] | None = None
