"""The SQL tracking store: SQLite by default, PostgreSQL for teams."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, select

from loopml.core.ids import new_run_id, new_run_ids
from loopml.store import _sql_artifacts as artifacts
from loopml.store import _sql_experiments as experiments
from loopml.store import _sql_runs as runs
from loopml.store._base import SEARCH_MAX_RESULTS, TrackingStore
from loopml.store._database import Database
from loopml.store._filter import parse_filter, parse_order_by
from loopml.store._metric_chunks import PointColumns
from loopml.store._migrate import upgrade
from loopml.store._paging import check_max_results, decode_token, encode_token
from loopml.store._sql_bulk_runs import create_many
from loopml.store._sql_search import apply_filter, apply_order, stage_filter
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
    RunTag,
    ViewType,
)


class SqlTrackingStore(TrackingStore):
    """A ``TrackingStore`` on a SQLAlchemy database; migrates the schema on first use."""

    def __init__(self, uri: str, *, busy_timeout_seconds: float = 60.0) -> None:
        self.db = Database(uri, busy_timeout_seconds=busy_timeout_seconds)
        upgrade(self.db)

    @property
    def uri(self) -> str:
        return self.db.uri

    # -- experiments -----------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        with self.db.write() as conn:
            return experiments.create(conn, name, artifact_location, tags or {})

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self.db.read() as conn:
            return experiments.get(conn, experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self.db.read() as conn:
            return experiments.get_by_name(conn, name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> PagedList[Experiment]:
        check_max_results(max_results, SEARCH_MAX_RESULTS)
        offset = decode_token(page_token)
        with self.db.read() as conn:
            items, more = experiments.search(
                conn, ViewType(view_type).stages(), filter_string, order_by, offset, max_results
            )
        return PagedList(items, encode_token(offset + max_results) if more else None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        with self.db.write() as conn:
            experiments.rename(conn, experiment_id, new_name)

    def set_experiment_lifecycle(self, experiment_id: str, stage: LifecycleStage) -> None:
        with self.db.write() as conn:
            experiments.set_lifecycle(conn, experiment_id, stage)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        with self.db.write() as conn:
            experiments.set_tag(conn, experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self.db.write() as conn:
            experiments.delete_tag(conn, experiment_id, key)

    # -- runs ----------------------------------------------------------------------
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
        with self.db.write() as conn:
            return runs.create(
                conn,
                experiment_id,
                new_run_id(),
                run_name,
                start_time,
                tags,
                parent_run_id,
                user_id,
            )

    def create_runs(self, experiment_id: str, runs: Sequence[NewRun]) -> list[str]:
        ids = new_run_ids(len(runs))
        if runs:
            with self.db.write() as conn:
                create_many(conn, experiment_id, list(zip(ids, runs, strict=True)))
        return ids

    def get_run(self, run_id: str) -> Run:
        with self.db.read() as conn:
            return runs.get(conn, run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        with self.db.write() as conn:
            return runs.update_run(conn, run_id, status, end_time, run_name)

    def set_run_lifecycle(self, run_id: str, stage: LifecycleStage, when: int) -> None:
        with self.db.write() as conn:
            runs.set_lifecycle(conn, run_id, stage, when)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        batch_id: str | None = None,
    ) -> None:
        if not (metrics or params or tags):
            return
        with self.db.write() as conn:
            runs.log_batch(conn, run_id, metrics, params, tags, batch_id)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.db.write() as conn:
            runs.delete_tag(conn, run_id, key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        with self.db.read() as conn:
            return runs.metric_history(conn, run_id, key)

    def get_metric_columns(self, run_id: str, key: str) -> PointColumns:
        with self.db.read() as conn:
            return runs.metric_columns(conn, run_id, key)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        check_max_results(max_results, SEARCH_MAX_RESULTS)
        offset = decode_token(page_token)
        exp_ids = [experiments.parse_experiment_id(e) for e in experiment_ids]
        query = search_query(filter_string or "", tuple(order_by or ()), ViewType(view_type)).where(
            runs.RUNS.c.experiment_id.in_(exp_ids)
        )
        with self.db.read() as conn:
            rows = conn.execute(query.offset(offset).limit(max_results + 1)).all()
            page = runs.load(conn, rows[:max_results])
        token = encode_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(page, token)

    def run_activity(self, experiment_ids: Sequence[str]) -> dict[str, RunActivity]:
        ids = [experiments.parse_experiment_id(e) for e in experiment_ids]
        columns = runs.RUNS.c
        moved = func.max(func.coalesce(columns.end_time, columns.start_time))
        query = (
            select(columns.experiment_id, func.count(), moved, func.max(columns.start_time))
            .where(columns.experiment_id.in_(ids), columns.lifecycle_stage == LifecycleStage.ACTIVE)
            .group_by(columns.experiment_id)
        )
        found = {str(e): RunActivity() for e in ids}
        with self.db.read() as conn:
            for experiment_id, count, last_end, last_start in conn.execute(query):
                found[str(experiment_id)] = RunActivity(int(count), max(last_end, last_start))
        return found

    def run_keys(
        self, experiment_ids: Sequence[str], view_type: ViewType = ViewType.ACTIVE_ONLY
    ) -> dict[str, list[str]]:
        ids = [experiments.parse_experiment_id(e) for e in experiment_ids]
        with self.db.read() as conn:
            return runs.keys(conn, ids, ViewType(view_type).stages())

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        with self.db.write() as conn:
            runs.log_inputs(conn, run_id, datasets)

    # -- artifact index --------------------------------------------------------
    def record_artifacts(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        with self.db.write() as conn:
            artifacts.record(conn, run_id, entries)

    def list_artifact_entries(self, run_id: str, prefix: str = "") -> list[ArtifactEntry]:
        with self.db.read() as conn:
            runs.get_status(conn, run_id)
            return artifacts.list_entries(conn, run_id, prefix)

    def referenced_blobs(self) -> Iterator[str]:
        with self.db.read() as conn:
            yield from artifacts.referenced_blobs(conn)

    def purge_deleted_runs(self, deleted_before: int) -> list[str]:
        with self.db.write() as conn:
            return artifacts.purge_deleted_runs(conn, deleted_before)


@lru_cache(maxsize=256)
def search_query(filter_string: str, order_by: tuple[str, ...], view_type: ViewType) -> Select[Any]:
    """The parsed, filtered and ordered run query for one search, built once.

    Dashboards and paging repeat the same search; parsing the filter and
    building the statement cost as much as running it on SQLite.
    """
    query = runs.select_runs().where(stage_filter(view_type.stages()))
    return apply_order(apply_filter(query, parse_filter(filter_string)), parse_order_by(order_by))
