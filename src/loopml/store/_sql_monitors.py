"""The SQL monitor store, on the tracking store's own database.

Monitors, results and rules are small JSON-carrying rows; what matters is
the write-once guarantees: results are inserted with ON CONFLICT DO NOTHING
on (monitor, window_start), and an alert event is unique on (rule,
window_start), so several server workers evaluating the same window store
one result and send one alert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, select, update

from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, NotFound
from loopml.store._database import Database
from loopml.store._migrate import upgrade
from loopml.store._models import ALERT_EVENTS, ALERT_RULES, MONITOR_RESULTS, MONITORS
from loopml.store._monitor_base import MonitorStore, missing_monitor, missing_rule
from loopml.store._upsert import ignore_statement
from loopml.store._visibility import visibility_clause, where_visible
from loopml.store.monitor_records import (
    AlertEvent,
    AlertRule,
    Monitor,
    MonitorResult,
    NewAlertEvent,
)


def _monitor(row: Any) -> Monitor:
    return Monitor(
        name=row.name,
        deployment=row.deployment,
        spec=json.loads(row.spec),
        start_time=row.start_time,
        last_window_end=row.last_window_end,
        created_time=row.created_time,
        updated_time=row.updated_time,
    )


def _result(row: Any) -> MonitorResult:
    return MonitorResult(
        monitor=row.monitor,
        window_start=row.window_start,
        window_end=row.window_end,
        status=row.status,
        detail=row.detail,
        metrics=json.loads(row.metrics),
        drift=None if row.drift is None else json.loads(row.drift),
        reference=row.reference,
        created_time=row.created_time,
    )


def _rule(row: Any) -> AlertRule:
    return AlertRule(
        name=row.name,
        monitor=row.monitor,
        condition=row.condition,
        cooldown_ms=row.cooldown_ms,
        destinations=tuple(json.loads(row.destinations)),
        enabled=bool(row.enabled),
        last_fired_window_end=row.last_fired_window_end,
        created_time=row.created_time,
        updated_time=row.updated_time,
    )


def _event(row: Any) -> AlertEvent:
    return AlertEvent(
        id=row.id,
        rule=row.rule,
        monitor=row.monitor,
        deployment=row.deployment,
        metric=row.metric,
        value=row.value,
        condition=row.condition,
        window_start=row.window_start,
        window_end=row.window_end,
        time=row.time,
        message=row.message,
        deliveries=tuple(json.loads(row.deliveries)),
    )


def _visible_monitor(name: ColumnElement[str]) -> ColumnElement[bool] | None:
    """Keeps rows whose monitor ``name`` may be seen: monitors follow their deployment."""
    clause = visibility_clause("deployment", MONITORS.c.deployment)
    return None if clause is None else name.in_(select(MONITORS.c.name).where(clause))


def _get_monitor(conn: Connection, name: str) -> Monitor:
    row = conn.execute(select(MONITORS).where(MONITORS.c.name == name)).first()
    if row is None:
        raise missing_monitor(name)
    return _monitor(row)


def _get_rule(conn: Connection, name: str) -> AlertRule:
    row = conn.execute(select(ALERT_RULES).where(ALERT_RULES.c.name == name)).first()
    if row is None:
        raise missing_rule(name)
    return _rule(row)


class SqlMonitorStore(MonitorStore):
    """A ``MonitorStore`` on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    # -- monitors ---------------------------------------------------------------------
    def create_monitor(
        self, name: str, deployment: str, spec: Mapping[str, Any], start_time: int
    ) -> Monitor:
        now = now_ms()
        with self.db.write() as conn:
            taken = conn.execute(select(MONITORS.c.name).where(MONITORS.c.name == name)).first()
            if taken is not None:
                raise AlreadyExists(
                    f"A monitor named {name!r} exists already: delete it first with "
                    f"`loopml monitor delete {name}`, or pick another name."
                )
            conn.execute(
                MONITORS.insert().values(
                    name=name,
                    deployment=deployment,
                    spec=json.dumps(dict(spec), sort_keys=True),
                    start_time=start_time,
                    last_window_end=None,
                    created_time=now,
                    updated_time=now,
                )
            )
            return _get_monitor(conn, name)

    def get_monitor(self, name: str) -> Monitor:
        with self.db.read() as conn:
            return _get_monitor(conn, name)

    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        query = where_visible(select(MONITORS), "deployment", MONITORS.c.deployment)
        query = query.order_by(MONITORS.c.name)
        if deployment is not None:
            query = query.where(MONITORS.c.deployment == deployment)
        with self.db.read() as conn:
            return [_monitor(row) for row in conn.execute(query)]

    def delete_monitor(self, name: str) -> None:
        with self.db.write() as conn:
            _get_monitor(conn, name)
            # Explicit, not only ON DELETE CASCADE: SQLite enforces foreign keys
            # only when the connection asks it to.
            conn.execute(delete(MONITOR_RESULTS).where(MONITOR_RESULTS.c.monitor == name))
            conn.execute(delete(ALERT_RULES).where(ALERT_RULES.c.monitor == name))
            conn.execute(delete(MONITORS).where(MONITORS.c.name == name))

    # -- results ----------------------------------------------------------------------
    def add_results(self, name: str, results: Sequence[MonitorResult]) -> int:
        if not results:
            return 0
        now = now_ms()
        rows = [
            {
                "monitor": name,
                "window_start": r.window_start,
                "window_end": r.window_end,
                "status": r.status,
                "detail": r.detail,
                "metrics": json.dumps(r.metrics, sort_keys=True),
                "drift": None if r.drift is None else json.dumps(r.drift, sort_keys=True),
                "reference": r.reference,
                "created_time": now,
            }
            for r in results
        ]
        newest = max(r.window_end for r in results)
        with self.db.write() as conn:
            _get_monitor(conn, name)
            before = self._count(conn, name)
            conn.execute(ignore_statement(conn.dialect.name, MONITOR_RESULTS), rows)
            added = self._count(conn, name) - before
            conn.execute(
                update(MONITORS)
                .where(
                    MONITORS.c.name == name,
                    (MONITORS.c.last_window_end.is_(None)) | (MONITORS.c.last_window_end < newest),
                )
                .values(last_window_end=newest, updated_time=now)
            )
        return added

    @staticmethod
    def _count(conn: Connection, name: str) -> int:
        return int(
            conn.execute(select(func.count()).where(MONITOR_RESULTS.c.monitor == name)).scalar_one()
        )

    def list_results(
        self,
        name: str,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 1000,
    ) -> list[MonitorResult]:
        t = MONITOR_RESULTS.c
        query = select(MONITOR_RESULTS).where(t.monitor == name)
        if since_ms is not None:
            query = query.where(t.window_end >= since_ms)
        if until_ms is not None:
            query = query.where(t.window_start < until_ms)
        query = query.order_by(t.window_start.desc()).limit(limit)
        with self.db.read() as conn:
            _get_monitor(conn, name)
            rows = [_result(row) for row in conn.execute(query)]
        rows.reverse()
        return rows

    def latest_results(self) -> list[tuple[Monitor, MonitorResult]]:
        t = MONITOR_RESULTS.c
        newest = (
            select(t.monitor, func.max(t.window_start).label("window_start"))
            .group_by(t.monitor)
            .subquery()
        )
        query = (
            select(MONITOR_RESULTS)
            .join(
                newest,
                (t.monitor == newest.c.monitor) & (t.window_start == newest.c.window_start),
            )
            .order_by(t.monitor)
        )
        visible = _visible_monitor(t.monitor)
        if visible is not None:
            query = query.where(visible)
        with self.db.read() as conn:
            results = [_result(row) for row in conn.execute(query)]
            monitors = {
                m.name: m for m in (_monitor(row) for row in conn.execute(select(MONITORS)))
            }
        return [(monitors[r.monitor], r) for r in results if r.monitor in monitors]

    # -- alert rules --------------------------------------------------------------------
    def create_rule(
        self,
        name: str,
        monitor: str,
        condition: str,
        cooldown_ms: int,
        destinations: Sequence[Mapping[str, Any]],
    ) -> AlertRule:
        now = now_ms()
        with self.db.write() as conn:
            _get_monitor(conn, monitor)
            taken = conn.execute(
                select(ALERT_RULES.c.name).where(ALERT_RULES.c.name == name)
            ).first()
            if taken is not None:
                raise AlreadyExists(
                    f"An alert rule named {name!r} exists already: remove it first with "
                    f"`loopml alerts remove {name}`, or pick another name."
                )
            conn.execute(
                ALERT_RULES.insert().values(
                    name=name,
                    monitor=monitor,
                    condition=condition,
                    cooldown_ms=cooldown_ms,
                    destinations=json.dumps([dict(d) for d in destinations]),
                    enabled=True,
                    last_fired_window_end=None,
                    created_time=now,
                    updated_time=now,
                )
            )
            return _get_rule(conn, name)

    def get_rule(self, name: str) -> AlertRule:
        with self.db.read() as conn:
            return _get_rule(conn, name)

    def list_rules(self, monitor: str | None = None) -> list[AlertRule]:
        query = select(ALERT_RULES).order_by(ALERT_RULES.c.name)
        visible = _visible_monitor(ALERT_RULES.c.monitor)
        if visible is not None:
            query = query.where(visible)
        if monitor is not None:
            query = query.where(ALERT_RULES.c.monitor == monitor)
        with self.db.read() as conn:
            return [_rule(row) for row in conn.execute(query)]

    def set_rule_enabled(self, name: str, enabled: bool) -> AlertRule:
        with self.db.write() as conn:
            _get_rule(conn, name)
            conn.execute(
                update(ALERT_RULES)
                .where(ALERT_RULES.c.name == name)
                .values(enabled=enabled, updated_time=now_ms())
            )
            return _get_rule(conn, name)

    def delete_rule(self, name: str) -> None:
        with self.db.write() as conn:
            _get_rule(conn, name)
            conn.execute(delete(ALERT_RULES).where(ALERT_RULES.c.name == name))

    # -- alert events -------------------------------------------------------------------
    def record_event(self, event: NewAlertEvent) -> AlertEvent | None:
        values = {
            "rule": event.rule,
            "monitor": event.monitor,
            "deployment": event.deployment,
            "metric": event.metric,
            "value": event.value,
            "condition": event.condition,
            "window_start": event.window_start,
            "window_end": event.window_end,
            "time": now_ms(),
            "message": event.message,
            "deliveries": "[]",
        }
        with self.db.write() as conn:
            insert = ignore_statement(conn.dialect.name, ALERT_EVENTS)
            event_id = conn.execute(
                insert.values(**values).returning(ALERT_EVENTS.c.id)
            ).scalar_one_or_none()
            if event_id is None:
                return None  # this rule already fired on this window (another worker, a re-run)
            conn.execute(
                update(ALERT_RULES)
                .where(ALERT_RULES.c.name == event.rule)
                .values(last_fired_window_end=event.window_end)
            )
            row = conn.execute(select(ALERT_EVENTS).where(ALERT_EVENTS.c.id == event_id)).one()
            return _event(row)

    def set_deliveries(self, event_id: int, deliveries: Sequence[Mapping[str, Any]]) -> None:
        with self.db.write() as conn:
            done = conn.execute(
                update(ALERT_EVENTS)
                .where(ALERT_EVENTS.c.id == event_id)
                .values(deliveries=json.dumps([dict(d) for d in deliveries]))
            )
            if done.rowcount == 0:
                raise NotFound(f"No alert event {event_id}: `loopml alerts list` shows events.")

    def list_events(
        self,
        *,
        rule: str | None = None,
        monitor: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[AlertEvent]:
        t = ALERT_EVENTS.c
        # An event names its deployment: it stays visible (or hidden) after its rule is gone.
        query = where_visible(select(ALERT_EVENTS), "deployment", t.deployment)
        if rule is not None:
            query = query.where(t.rule == rule)
        if monitor is not None:
            query = query.where(t.monitor == monitor)
        if after_id is not None:
            query = query.where(t.id > after_id).order_by(t.id)
        else:
            query = query.order_by(t.id.desc())
        with self.db.read() as conn:
            return [_event(row) for row in conn.execute(query.limit(limit))]
