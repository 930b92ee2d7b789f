"""The feature metadata store interface: versioned definitions, materialisation records.

The SQL store (SQLite and PostgreSQL, on the tracking store's database)
implements it. Callers (``loopml.features.FeatureRegistry``) validate the
definitions and their references first; the store guarantees that an apply
is atomic (all of its definitions are written, or none), that a version is
never rewritten, and that an unchanged spec (same digest as the newest
version) writes nothing.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence

from loopml.core.errors import NotFound
from loopml.store.feature_records import (
    FeatureMaterialization,
    FeatureRecord,
    NewFeatureDefinition,
)


class FeatureStoreBackend(abc.ABC):
    """Where feature definitions and materialisation records live."""

    # -- definitions ------------------------------------------------------------------
    @abc.abstractmethod
    def put_definitions(
        self, plan: Callable[[], Sequence[NewFeatureDefinition]]
    ) -> list[tuple[FeatureRecord, bool]]:
        """Write what ``plan()`` returns, each as the next version of its (kind, name), at once.

        ``plan`` (the caller's checks against what is registered) runs after
        the store has excluded other applies, so two concurrent applies cannot
        both pass their checks on the same state. A definition whose digest
        equals its newest version's is not written: that version comes back
        with ``False``; a written one with ``True``.
        """

    @abc.abstractmethod
    def get_definition(self, kind: str, name: str, version: int | None = None) -> FeatureRecord:
        """One version (the newest when None); NotFound otherwise."""

    @abc.abstractmethod
    def list_definitions(self, kind: str | None = None) -> list[FeatureRecord]:
        """The newest version of every definition (of one kind when given), by kind and name."""

    @abc.abstractmethod
    def definition_versions(self, kind: str, name: str) -> list[FeatureRecord]:
        """Every version of one definition, oldest first; NotFound when there is none."""

    # -- materialisations ---------------------------------------------------------------
    @abc.abstractmethod
    def add_materialization(
        self, view: str, start_ms: int, end_ms: int, rows: int
    ) -> FeatureMaterialization:
        """Record that ``view``'s rows in ``[start_ms, end_ms)`` were loaded online."""

    @abc.abstractmethod
    def list_materializations(self, view: str, limit: int = 100) -> list[FeatureMaterialization]:
        """The view's materialisations, newest ``end_ms`` first (at most ``limit``)."""

    def last_materialized(self, view: str) -> int | None:
        """The newest ``end_ms`` materialised for ``view``, or None: where incremental starts."""
        done = self.list_materializations(view, limit=1)
        return done[0].end_ms if done else None


def missing_definition(kind: str, name: str, version: int | None = None) -> NotFound:
    what = kind.replace("_", " ")
    at = "" if version is None else f" version {version}"
    return NotFound(f"No {what} named {name!r}{at}: `loopml features list` shows the definitions.")
