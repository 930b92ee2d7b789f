"""The dataset store interface: named datasets and their immutable, numbered versions.

The SQL store (SQLite and PostgreSQL, on the tracking store's database so
``loopml gc`` keeps every registered version's content) implements it; the
remote store (``loopml.datasets``' REST client of a loopml server) implements
it too, and both pass the same service tests.

Callers (``loopml.datasets.Datasets``) validate names and values and make sure
the content is in the object store first; the store guarantees atomicity and
numbering: versions of a name are 1, 2, 3... with no gaps and no reuse, also
under concurrent registration, and registering content a version of that name
already holds returns that version instead of making a new one.
"""

from __future__ import annotations

import abc

from loopml.core.errors import NotFound
from loopml.store.dataset_records import Dataset, DatasetVersion, NewDatasetVersion


class DatasetStore(abc.ABC):
    """Where datasets and their versions are recorded."""

    @abc.abstractmethod
    def create_dataset_version(
        self, name: str, new: NewDatasetVersion
    ) -> tuple[DatasetVersion, bool]:
        """Record ``new`` as the next version of ``name`` (creating the dataset if needed).

        Returns the version and whether it is new: when a version of ``name``
        already has ``new.content_id``, that version comes back unchanged with
        False (its description and tags are kept).
        """

    @abc.abstractmethod
    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        """One version (the newest when ``version`` is None); NotFound otherwise."""

    @abc.abstractmethod
    def list_datasets(self) -> list[Dataset]:
        """Every dataset with its newest version, by name."""

    @abc.abstractmethod
    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        """Every version of a dataset, newest first; NotFound for an unknown name."""


def missing_dataset(name: str) -> NotFound:
    return NotFound(
        f"No dataset named {name!r}: `loopml datasets list` shows the datasets, "
        "`loopml datasets register NAME PATH` records one."
    )


def missing_version(name: str, version: int, latest: int) -> NotFound:
    return NotFound(
        f"Dataset {name!r} has no version {version} (its versions are 1 to {latest}): "
        f"`loopml datasets show {name}` shows the newest."
    )
