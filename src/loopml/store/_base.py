"""The tracking store interface: a few primitives, conveniences written once here.

The SQL store (SQLite and PostgreSQL) implements it; the remote (HTTP) store
implements it too, and all of them pass one shared test suite.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence

from loopml.store._metric_chunks import PointColumns
from loopml.store.records import (
    ArtifactEntry,
    DatasetInput,
    Experiment,
    LifecycleStage,
    Metric,
    NewRun,
    PagedList,
    Param,
    Run,
    RunActivity,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)

SEARCH_MAX_RESULTS = 50_000


class TrackingStore(abc.ABC):
    """Where experiments, runs and their logged values live.

    Callers validate names and values (``loopml.tracking`` does) before they
    get here; the store guarantees atomicity: a call is written whole or not
    at all, and a rejected call writes nothing.
    """

    # -- experiments -------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        """Create an experiment; AlreadyExists if the name is taken (even by a deleted one)."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with that id; NotFound otherwise."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with that name, active or deleted, or None."""

    @abc.abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching an MLflow experiment filter, by ``order_by`` then id, paged."""

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Give an experiment a new unique name."""

    @abc.abstractmethod
    def set_experiment_lifecycle(self, experiment_id: str, stage: LifecycleStage) -> None:
        """Soft-delete or restore an experiment (its runs follow)."""

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set (or overwrite) a tag of an experiment."""

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag of an experiment; NotFound if it has no such tag."""

    # -- runs ----------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        parent_run_id: str | None = None,
        user_id: str = "",
    ) -> Run:
        """Create a RUNNING run in an active experiment."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs; NotFound otherwise."""

    @abc.abstractmethod
    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change a run's status, end time or name."""

    @abc.abstractmethod
    def set_run_lifecycle(self, run_id: str, stage: LifecycleStage, when: int) -> None:
        """Soft-delete or restore a run; ``when`` is recorded as the deletion time."""

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        batch_id: str | None = None,
    ) -> None:
        """Write metrics, params and tags in one transaction.

        InvalidState if the run is deleted, or if it has terminated and the batch
        holds metrics or params (tags stay writable: they annotate). InvalidArgument
        if a param would change value. A ``batch_id`` makes the write idempotent:
        a batch with an id already stored is skipped (replays of a spool).
        """

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag; NotFound if the run has no such tag."""

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, ordered by step then timestamp."""

    def get_metric_columns(self, run_id: str, key: str) -> PointColumns:
        """``get_metric_history`` as arrays (steps, timestamps, values), for charts.

        Stores that keep points packed override this to skip per-point objects.
        """
        points = self.get_metric_history(run_id, key)
        return PointColumns.from_lists(
            [p.step for p in points], [p.timestamp for p in points], [p.value for p in points]
        )

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs matching MLflow's filter language, ordered, a page at a time."""

    @abc.abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets a run read (idempotent per name, digest and context)."""

    # -- artifact index --------------------------------------------------------
    @abc.abstractmethod
    def record_artifacts(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        """Add or replace entries of a run's artifact index."""

    @abc.abstractmethod
    def list_artifact_entries(self, run_id: str, prefix: str = "") -> list[ArtifactEntry]:
        """Artifact entries whose path is ``prefix`` or lies below it, ordered by path."""

    @abc.abstractmethod
    def referenced_blobs(self) -> Iterator[str]:
        """Every blob id the metadata refers to: the roots of garbage collection."""

    @abc.abstractmethod
    def purge_deleted_runs(self, deleted_before: int) -> list[str]:
        """Permanently remove runs deleted at or before that time; returns their ids."""

    # -- conveniences, written once ---------------------------------------------
    def delete_experiment(self, experiment_id: str) -> None:
        self.set_experiment_lifecycle(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self.set_experiment_lifecycle(experiment_id, LifecycleStage.ACTIVE)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])

    def create_runs(self, experiment_id: str, runs: Sequence[NewRun]) -> list[str]:
        """Create whole runs (row, tags, params, metrics, status); return their ids in order.

        The system tags are written from the fields (``NewRun.system_tags``).
        Written here run by run; the SQL store overrides it with one
        transaction and one statement per table, so a thousand tuning trials
        cost one write instead of three thousand.
        """
        ids = []
        for new in runs:
            run_id = self.create_run(
                experiment_id,
                run_name=new.run_name,
                start_time=new.start_time,
                tags=[RunTag(k, v) for k, v in new.system_tags().items()],
                parent_run_id=new.parent_run_id,
                user_id=new.user_id,
            ).info.run_id
            self.log_batch(run_id, new.metrics, new.params)
            if new.status != RunStatus.RUNNING or new.end_time is not None:
                self.update_run(run_id, status=new.status, end_time=new.end_time)
            ids.append(run_id)
        return ids

    def run_activity(self, experiment_ids: Sequence[str]) -> dict[str, RunActivity]:
        """Active run count and latest start or end time of each experiment (for listings).

        This default reads every run; SQL stores answer with one grouped query.
        """
        found: dict[str, RunActivity] = {}
        for experiment_id in experiment_ids:
            count, last = 0, None
            for run in self.iter_runs([experiment_id]):
                count += 1
                moved = max(run.info.start_time, run.info.end_time or 0)
                last = moved if last is None else max(last, moved)
            found[experiment_id] = RunActivity(count, last)
        return found

    def run_keys(
        self, experiment_ids: Sequence[str], view_type: ViewType = ViewType.ACTIVE_ONLY
    ) -> dict[str, list[str]]:
        """Every metric, param and tag key of the experiments' runs (``metrics``, ``params``,
        ``tags``), each list sorted: what a column chooser offers.

        This default reads every run; SQL stores answer from the key indexes alone.
        """
        found: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
        for run in self.iter_runs(experiment_ids, view_type=view_type):
            found["metrics"].update(run.data.metrics)
            found["params"].update(run.data.params)
            found["tags"].update(run.data.tags)
        return {kind: sorted(keys) for kind, keys in found.items()}

    def iter_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> Iterable[Run]:
        """Every matching run, fetching page after page."""
        token: str | None = None
        while True:
            page = self.search_runs(
                experiment_ids, filter_string, order_by, view_type, SEARCH_MAX_RESULTS, token
            )
            yield from page
            token = page.token
            if not token:
                return
