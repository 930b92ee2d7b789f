"""The SQL pipeline store: schedules and the step cache, on the tracking store's database.

Sharing the ``Database`` (``SqlTrackingStore.db``) lets a cache entry point at
its step run with a foreign key: when ``loopml gc`` purges the run, its entry
goes with it, and a lookup joins ``runs`` so a deleted or unfinished run is
never answered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound
from loopml.store._database import Database
from loopml.store._migrate import upgrade
from loopml.store._models import PIPELINE_SCHEDULES, RUNS, STEP_CACHE
from loopml.store._pipeline_base import MAX_CACHE_LOOKUP, PipelineStore, missing_schedule
from loopml.store._upsert import upsert
from loopml.store.pipeline_records import Schedule, StepCacheEntry


def _record(row: Any) -> Schedule:
    return Schedule(
        name=row.name,
        target=row.target,
        cron=row.cron,
        params=json.loads(row.params),
        missed=row.missed,
        executor=row.executor,
        workdir=row.workdir,
        next_run_time=row.next_run_time,
        last_fire_time=row.last_fire_time,
        last_run_id=row.last_run_id,
        created_time=row.created_time,
        updated_time=row.updated_time,
    )


def _get(conn: Connection, name: str) -> Schedule:
    row = conn.execute(select(PIPELINE_SCHEDULES).where(PIPELINE_SCHEDULES.c.name == name)).first()
    if row is None:
        raise missing_schedule(name)
    return _record(row)


class SqlPipelineStore(PipelineStore):
    """A ``PipelineStore`` on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    # -- schedules ----------------------------------------------------------------------
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
        now = now_ms()
        with self.db.write() as conn:
            taken = conn.execute(
                select(PIPELINE_SCHEDULES.c.name).where(PIPELINE_SCHEDULES.c.name == name)
            ).first()
            if taken is not None:
                raise AlreadyExists(
                    f"A schedule named {name!r} exists already: remove it first with "
                    f"`loopml pipelines schedule remove {name}`, or pick another name."
                )
            conn.execute(
                PIPELINE_SCHEDULES.insert().values(
                    name=name,
                    target=target,
                    cron=cron,
                    params=json.dumps(dict(params), sort_keys=True),
                    missed=missed,
                    executor=executor,
                    workdir=workdir,
                    next_run_time=next_run_time,
                    last_fire_time=None,
                    last_run_id=None,
                    created_time=now,
                    updated_time=now,
                )
            )
            return _get(conn, name)

    def get_schedule(self, name: str) -> Schedule:
        with self.db.read() as conn:
            return _get(conn, name)

    def list_schedules(self) -> list[Schedule]:
        with self.db.read() as conn:
            rows = conn.execute(select(PIPELINE_SCHEDULES).order_by(PIPELINE_SCHEDULES.c.name))
            return [_record(row) for row in rows]

    def delete_schedule(self, name: str) -> None:
        with self.db.write() as conn:
            gone = conn.execute(delete(PIPELINE_SCHEDULES).where(PIPELINE_SCHEDULES.c.name == name))
            if gone.rowcount == 0:
                raise missing_schedule(name)

    # -- what only the scheduler (beside the database) needs -----------------------------
    def due_schedules(self, now: int) -> list[Schedule]:
        """Schedules whose next slot is at or before ``now``, earliest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(PIPELINE_SCHEDULES)
                .where(PIPELINE_SCHEDULES.c.next_run_time <= now)
                .order_by(PIPELINE_SCHEDULES.c.next_run_time, PIPELINE_SCHEDULES.c.name)
            )
            return [_record(row) for row in rows]

    def claim_schedule(self, name: str, expected_next: int, new_next: int, fired: bool) -> bool:
        """Move a due schedule to its next slot if nobody did meanwhile; whether we did.

        The compare-and-set on ``next_run_time`` is what makes several server
        workers safe: for each slot exactly one of them wins and runs it.
        ``fired`` records that this slot starts a run (False when it is skipped).
        """
        now = now_ms()
        values: dict[str, Any] = {"next_run_time": new_next, "updated_time": now}
        if fired:
            values["last_fire_time"] = now
        with self.db.write() as conn:
            moved = conn.execute(
                update(PIPELINE_SCHEDULES)
                .where(PIPELINE_SCHEDULES.c.name == name)
                .where(PIPELINE_SCHEDULES.c.next_run_time == expected_next)
                .values(**values)
            )
            return bool(moved.rowcount == 1)

    def record_schedule_run(self, name: str, run_id: str) -> None:
        """Remember the pipeline run a firing started (nothing if the schedule is gone)."""
        with self.db.write() as conn:
            conn.execute(
                update(PIPELINE_SCHEDULES)
                .where(PIPELINE_SCHEDULES.c.name == name)
                .values(last_run_id=run_id, updated_time=now_ms())
            )

    # -- the step cache -----------------------------------------------------------------
    def lookup_step_cache(self, keys: Sequence[str]) -> dict[str, StepCacheEntry]:
        if len(keys) > MAX_CACHE_LOOKUP:
            raise InvalidArgument(
                f"Look up at most {MAX_CACHE_LOOKUP} cache keys at once, not {len(keys)}."
            )
        if not keys:
            return {}
        query = (
            select(STEP_CACHE)
            .join(RUNS, RUNS.c.run_uuid == STEP_CACHE.c.run_uuid)
            .where(STEP_CACHE.c.cache_key.in_(list(keys)))
            .where(RUNS.c.lifecycle_stage == "active")
            .where(RUNS.c.status == "FINISHED")
        )
        with self.db.read() as conn:
            return {
                row.cache_key: StepCacheEntry(
                    row.cache_key, row.run_uuid, row.step, row.outputs, row.created
                )
                for row in conn.execute(query)
            }

    def put_step_cache(self, entry: StepCacheEntry) -> None:
        with self.db.write() as conn:
            found = conn.execute(
                select(RUNS.c.run_uuid).where(RUNS.c.run_uuid == entry.run_id)
            ).first()
            if found is None:
                raise NotFound(f"Run {entry.run_id!r} not found: a cache entry needs its run.")
            row = {
                "cache_key": entry.cache_key,
                "run_uuid": entry.run_id,
                "step": entry.step,
                "outputs": entry.outputs,
                "created": now_ms(),
            }
            upsert(
                conn, STEP_CACHE, [row], ["cache_key"], ["run_uuid", "step", "outputs", "created"]
            )
