"""The pipeline store interface: schedules and the step cache.

The SQL store (SQLite and PostgreSQL, on the tracking store's database, so a
cache entry goes with the step run it points at) implements it; the remote
store (``loopml.pipelines``' REST client of a loopml server) implements it
too, and both pass the same tests.

Callers (``loopml.pipelines``) validate names, cron expressions and targets
first; the store guarantees atomicity: a schedule is created whole or not at
all, and a cache lookup only answers with runs that still exist, are active
and FINISHED.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from loopml.core.errors import NotFound
from loopml.store.pipeline_records import Schedule, StepCacheEntry

MAX_CACHE_LOOKUP = 1000


class PipelineStore(abc.ABC):
    """Where pipeline schedules and step cache entries are recorded."""

    # -- schedules ----------------------------------------------------------------------
    @abc.abstractmethod
    def create_schedule(
        self,
        name: str,
        *,
        target: str,
        cron: str,
        params: Mapping[str, str],
        missed: str,
        executor: str,
        workdir: str,
        next_run_time: int,
    ) -> Schedule:
        """Create a schedule; AlreadyExists if the name is taken."""

    @abc.abstractmethod
    def get_schedule(self, name: str) -> Schedule:
        """One schedule; NotFound otherwise."""

    @abc.abstractmethod
    def list_schedules(self) -> list[Schedule]:
        """Every schedule, by name."""

    @abc.abstractmethod
    def delete_schedule(self, name: str) -> None:
        """Delete a schedule (runs it started stay); NotFound."""

    # -- the step cache -----------------------------------------------------------------
    @abc.abstractmethod
    def lookup_step_cache(self, keys: Sequence[str]) -> dict[str, StepCacheEntry]:
        """The entries of those ``keys`` whose run is active and FINISHED (one query).

        At most ``MAX_CACHE_LOOKUP`` keys per call (InvalidArgument beyond).
        """

    @abc.abstractmethod
    def put_step_cache(self, entry: StepCacheEntry) -> None:
        """Point ``entry.cache_key`` at ``entry.run_id`` (replacing an older entry).

        NotFound if the run does not exist.
        """


def missing_schedule(name: str) -> NotFound:
    return NotFound(
        f"No schedule named {name!r}: `loopml pipelines schedule list` shows the schedules."
    )
