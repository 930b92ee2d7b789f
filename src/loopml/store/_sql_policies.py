"""The SQL policy store, on the tracking store's own database.

The per-model lock is a row of ``policy_locks`` keyed by model, inserted
with ON CONFLICT DO NOTHING in the transaction that inserts the run: the
insert that finds the row taken stores its run as ``skipped``. Cursors are
compared as their canonical JSON text (``sort_keys``), so a compare-and-set
is one ``UPDATE ... WHERE cursors = :old``. Leases are taken the same way:
``UPDATE ... WHERE lease free or expired``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, update

from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, InvalidState
from loopml.store._database import Database
from loopml.store._migrate import upgrade
from loopml.store._models import POLICIES, POLICY_EVENTS, POLICY_LOCKS, POLICY_RUNS
from loopml.store._policy_base import PolicyStore, missing_policy, missing_run
from loopml.store._upsert import ignore_statement
from loopml.store._visibility import where_visible
from loopml.store.policy_records import (
    QUEUED,
    SKIPPED,
    TERMINAL_STATES,
    NewPolicyEvent,
    PolicyEvent,
    PolicyRun,
    StoredPolicy,
    Transition,
)


def _text(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True, default=str)


def _policy(row: Any) -> StoredPolicy:
    return StoredPolicy(
        name=row.name,
        model=row.model,
        spec=json.loads(row.spec),
        enabled=bool(row.enabled),
        cursors=json.loads(row.cursors),
        created_time=row.created_time,
        updated_time=row.updated_time,
    )


def _run(row: Any) -> PolicyRun:
    return PolicyRun(
        id=int(row.id),
        policy=row.policy,
        model=row.model,
        state=row.state,
        trigger=json.loads(row.trigger),
        reason=row.reason,
        links=json.loads(row.links),
        details=json.loads(row.details),
        spec=json.loads(row.spec),
        canary_started=row.canary_started,
        lease_owner=row.lease_owner,
        heartbeat_time=row.heartbeat_time,
        created_time=row.created_time,
        updated_time=row.updated_time,
        finished_time=row.finished_time,
    )


def _event(row: Any) -> PolicyEvent:
    return PolicyEvent(
        id=int(row.id),
        run_id=int(row.run_id),
        policy=row.policy,
        time_ms=row.time,
        step=row.step,
        status=row.status,
        reason=row.reason,
        links=json.loads(row.links),
    )


def _get_policy(conn: Connection, name: str) -> StoredPolicy:
    row = conn.execute(select(POLICIES).where(POLICIES.c.name == name)).first()
    if row is None:
        raise missing_policy(name)
    return _policy(row)


def _get_run(conn: Connection, run_id: int) -> PolicyRun:
    row = conn.execute(select(POLICY_RUNS).where(POLICY_RUNS.c.id == run_id)).first()
    if row is None:
        raise missing_run(run_id)
    return _run(row)


def _insert_event(
    conn: Connection, run_id: int, policy: str, event: NewPolicyEvent, time: int
) -> PolicyEvent:
    event_id = conn.execute(
        POLICY_EVENTS.insert()
        .values(
            run_id=run_id,
            policy=policy,
            time=time,
            step=event.step,
            status=event.status,
            reason=event.reason,
            links=_text(event.links),
        )
        .returning(POLICY_EVENTS.c.id)
    ).scalar_one()
    row = conn.execute(select(POLICY_EVENTS).where(POLICY_EVENTS.c.id == event_id)).one()
    return _event(row)


class SqlPolicyStore(PolicyStore):
    """A ``PolicyStore`` on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    # -- policies ---------------------------------------------------------------------
    def create_policy(
        self,
        name: str,
        model: str,
        spec: Mapping[str, Any],
        enabled: bool,
        cursors: Mapping[str, Any],
    ) -> StoredPolicy:
        now = now_ms()
        with self.db.write() as conn:
            taken = conn.execute(select(POLICIES.c.name).where(POLICIES.c.name == name)).first()
            if taken is not None:
                raise AlreadyExists(
                    f"A policy named {name!r} exists already: update it (`loopml policies "
                    f"create FILE --replace`) or delete it first."
                )
            conn.execute(
                POLICIES.insert().values(
                    name=name,
                    model=model,
                    spec=_text(spec),
                    enabled=bool(enabled),
                    cursors=_text(cursors),
                    created_time=now,
                    updated_time=now,
                )
            )
            return _get_policy(conn, name)

    def replace_policy(
        self,
        name: str,
        model: str,
        spec: Mapping[str, Any],
        enabled: bool,
        cursors: Mapping[str, Any],
    ) -> StoredPolicy:
        with self.db.write() as conn:
            _get_policy(conn, name)
            conn.execute(
                update(POLICIES)
                .where(POLICIES.c.name == name)
                .values(
                    model=model,
                    spec=_text(spec),
                    enabled=bool(enabled),
                    cursors=_text(cursors),
                    updated_time=now_ms(),
                )
            )
            return _get_policy(conn, name)

    def get_policy(self, name: str) -> StoredPolicy:
        with self.db.read() as conn:
            return _get_policy(conn, name)

    def list_policies(self) -> list[StoredPolicy]:
        with self.db.read() as conn:
            query = where_visible(select(POLICIES), "policy", POLICIES.c.name)
            return [_policy(r) for r in conn.execute(query.order_by(POLICIES.c.name))]

    def delete_policy(self, name: str) -> None:
        with self.db.write() as conn:
            _get_policy(conn, name)
            conn.execute(delete(POLICIES).where(POLICIES.c.name == name))

    # -- runs -------------------------------------------------------------------------
    def create_run(
        self,
        policy: str,
        model: str,
        spec: Mapping[str, Any],
        trigger: Mapping[str, Any],
        links: Mapping[str, Any],
        *,
        cursors: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    ) -> PolicyRun | None:
        now = now_ms()
        with self.db.write() as conn:
            _get_policy(conn, policy)
            if cursors is not None and not self._swap_cursors(conn, policy, *cursors):
                return None
            run_id = conn.execute(
                POLICY_RUNS.insert()
                .values(
                    policy=policy,
                    model=model,
                    state=QUEUED,
                    spec=_text(spec),
                    trigger=_text(trigger),
                    reason="",
                    links=_text(links),
                    details="{}",
                    created_time=now,
                    updated_time=now,
                )
                .returning(POLICY_RUNS.c.id)
            ).scalar_one()
            # RETURNING, not rowcount: psycopg reports no count for a skipped conflict.
            locked = conn.execute(
                ignore_statement(conn.dialect.name, POLICY_LOCKS)
                .values(model=model, run_id=run_id, policy=policy, created_time=now)
                .returning(POLICY_LOCKS.c.run_id)
            ).scalar_one_or_none()
            what = str(trigger.get("reason") or trigger.get("type") or "triggered")
            if locked is not None:
                event = NewPolicyEvent("trigger", "queued", what, dict(links))
            else:
                holder = conn.execute(
                    select(POLICY_LOCKS.c.run_id, POLICY_LOCKS.c.policy).where(
                        POLICY_LOCKS.c.model == model
                    )
                ).first()
                busy = (
                    f"run {holder.run_id} of policy {holder.policy!r}" if holder else "another run"
                )
                reason = f"{what}: skipped, model {model!r} is busy with {busy}"
                conn.execute(
                    update(POLICY_RUNS)
                    .where(POLICY_RUNS.c.id == run_id)
                    .values(state=SKIPPED, reason=reason, finished_time=now)
                )
                event = NewPolicyEvent(
                    "trigger",
                    "skipped",
                    reason,
                    {**links, **({"active_run": holder.run_id} if holder else {})},
                )
            _insert_event(conn, run_id, policy, event, now)
            return _get_run(conn, run_id)

    @staticmethod
    def _swap_cursors(
        conn: Connection, policy: str, expected: Mapping[str, Any], new: Mapping[str, Any]
    ) -> bool:
        done = conn.execute(
            update(POLICIES)
            .where(POLICIES.c.name == policy, POLICIES.c.cursors == _text(expected))
            .values(cursors=_text(new))
        )
        return done.rowcount == 1

    def set_cursors(self, policy: str, expected: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        with self.db.write() as conn:
            _get_policy(conn, policy)
            return self._swap_cursors(conn, policy, expected, new)

    def get_run(self, run_id: int) -> PolicyRun:
        with self.db.read() as conn:
            return _get_run(conn, run_id)

    def list_runs(
        self,
        *,
        policy: str | None = None,
        states: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[PolicyRun]:
        query = where_visible(select(POLICY_RUNS), "policy", POLICY_RUNS.c.policy)
        if policy is not None:
            query = query.where(POLICY_RUNS.c.policy == policy)
        if states is not None:
            query = query.where(POLICY_RUNS.c.state.in_(list(states)))
        query = query.order_by(POLICY_RUNS.c.id.desc()).limit(limit)
        with self.db.read() as conn:
            return [_run(r) for r in conn.execute(query)]

    def active_run(self, model: str) -> PolicyRun | None:
        with self.db.read() as conn:
            held = conn.execute(
                select(POLICY_LOCKS.c.run_id).where(POLICY_LOCKS.c.model == model)
            ).scalar_one_or_none()
            return None if held is None else _get_run(conn, int(held))

    def claim_run(self, run_id: int, owner: str, now: int, lease_ms: int) -> PolicyRun | None:
        t = POLICY_RUNS.c
        free = or_(
            t.lease_owner.is_(None),
            t.lease_owner == owner,
            t.heartbeat_time.is_(None),
            t.heartbeat_time < now - lease_ms,
        )
        with self.db.write() as conn:
            done = conn.execute(
                update(POLICY_RUNS)
                .where(t.id == run_id, t.state.not_in(TERMINAL_STATES), free)
                .values(lease_owner=owner, heartbeat_time=now)
            )
            return _get_run(conn, run_id) if done.rowcount == 1 else None

    def heartbeat(self, run_id: int, owner: str, now: int) -> bool:
        t = POLICY_RUNS.c
        with self.db.write() as conn:
            done = conn.execute(
                update(POLICY_RUNS)
                .where(t.id == run_id, t.lease_owner == owner)
                .values(heartbeat_time=now)
            )
            return done.rowcount == 1

    def release(self, run_id: int, owner: str) -> None:
        t = POLICY_RUNS.c
        with self.db.write() as conn:
            conn.execute(
                update(POLICY_RUNS)
                .where(t.id == run_id, t.lease_owner == owner)
                .values(lease_owner=None, heartbeat_time=None)
            )

    def transition(self, run_id: int, owner: str, move: Transition) -> PolicyRun:
        now = now_ms()
        with self.db.write() as conn:
            run = _get_run(conn, run_id)
            if run.lease_owner != owner or run.done:
                raise InvalidState(
                    f"Policy run {run_id} is not held by this worker (state {run.state}); "
                    "another worker took it over."
                )
            values: dict[str, Any] = {
                "state": move.state,
                "updated_time": now,
                "links": _text({**run.links, **move.links}),
                "details": _text({**run.details, **move.details}),
            }
            if move.reason is not None:
                values["reason"] = move.reason
            if move.canary_started is not None:
                values["canary_started"] = move.canary_started
            ended = move.state in TERMINAL_STATES
            if ended:
                values.update(finished_time=now, lease_owner=None, heartbeat_time=None)
            conn.execute(update(POLICY_RUNS).where(POLICY_RUNS.c.id == run_id).values(**values))
            if ended:
                conn.execute(
                    delete(POLICY_LOCKS).where(
                        and_(POLICY_LOCKS.c.model == run.model, POLICY_LOCKS.c.run_id == run_id)
                    )
                )
            _insert_event(conn, run_id, run.policy, move.event, now)
            return _get_run(conn, run_id)

    # -- events -----------------------------------------------------------------------
    def add_event(self, run_id: int, event: NewPolicyEvent) -> PolicyEvent:
        with self.db.write() as conn:
            run = _get_run(conn, run_id)
            return _insert_event(conn, run_id, run.policy, event, now_ms())

    def list_events(
        self,
        *,
        policy: str | None = None,
        run_id: int | None = None,
        limit: int = 1000,
    ) -> list[PolicyEvent]:
        query = where_visible(select(POLICY_EVENTS), "policy", POLICY_EVENTS.c.policy)
        if policy is not None:
            query = query.where(POLICY_EVENTS.c.policy == policy)
        if run_id is not None:
            query = query.where(POLICY_EVENTS.c.run_id == run_id)
        query = query.order_by(POLICY_EVENTS.c.id.desc()).limit(limit)
        with self.db.read() as conn:
            found = [_event(r) for r in conn.execute(query)]
        found.reverse()
        return found
