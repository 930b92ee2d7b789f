"""The SQL monitor store on SQLite and PostgreSQL: written once per window, once per firing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopml.core.errors import AlreadyExists, NotFound
from loopml.store import (
    MonitorResult,
    NewAlertEvent,
    SqlMonitorStore,
    SqlTrackingStore,
)


@pytest.fixture
def monitors(store: SqlTrackingStore) -> Iterator[SqlMonitorStore]:
    yield SqlMonitorStore(store.db)


def _result(start: int, rows: float = 10.0, monitor: str = "m") -> MonitorResult:
    return MonitorResult(
        monitor=monitor,
        window_start=start,
        window_end=start + 60,
        status="ok",
        detail="",
        metrics={"rows": rows, "accuracy": None},
        drift={"dataset_drift": False, "columns": {}},
        reference="ref@1",
        created_time=0,
    )


def _event(window_start: int, rule: str = "r") -> NewAlertEvent:
    return NewAlertEvent(
        rule=rule,
        monitor="m",
        deployment="d",
        metric="rows",
        value=10.0,
        condition="rows > 5",
        window_start=window_start,
        window_end=window_start + 60,
        message="rows is 10",
    )


def test_results_are_written_once_and_move_the_cursor(monitors: SqlMonitorStore) -> None:
    created = monitors.create_monitor("m", "d", {"window_ms": 60}, 0)
    assert created.last_window_end is None and created.spec == {"window_ms": 60}
    with pytest.raises(AlreadyExists, match="loopml monitor delete"):
        monitors.create_monitor("m", "d", {}, 0)
    assert monitors.add_results("m", [_result(0), _result(60)]) == 2
    # The same windows again (another worker, a re-run): nothing new, the first result kept.
    assert monitors.add_results("m", [_result(60, rows=99.0), _result(120)]) == 1
    stored = monitors.list_results("m")
    assert [r.window_start for r in stored] == [0, 60, 120]
    assert stored[1].metrics == {"rows": 10.0, "accuracy": None}
    assert stored[0].drift == {"dataset_drift": False, "columns": {}}
    assert monitors.get_monitor("m").last_window_end == 180
    assert [r.window_start for r in monitors.list_results("m", limit=2)] == [60, 120]
    assert [r.window_start for r in monitors.list_results("m", since_ms=150)] == [120]
    assert [r.window_start for r in monitors.list_results("m", until_ms=60)] == [0]
    with pytest.raises(NotFound, match="loopml monitor list"):
        monitors.add_results("other", [_result(0, monitor="other")])


def test_latest_results_per_monitor(monitors: SqlMonitorStore) -> None:
    monitors.create_monitor("a", "d", {}, 0)
    monitors.create_monitor("b", "d", {}, 0)
    monitors.create_monitor("c", "d", {}, 0)
    monitors.add_results("a", [_result(0, monitor="a"), _result(60, 5.0, monitor="a")])
    monitors.add_results("b", [_result(0, 7.0, monitor="b")])
    latest = {m.name: r for m, r in monitors.latest_results()}
    assert set(latest) == {"a", "b"}
    assert latest["a"].window_start == 60 and latest["a"].metrics["rows"] == 5.0


def test_a_rule_fires_once_per_window(monitors: SqlMonitorStore) -> None:
    monitors.create_monitor("m", "d", {}, 0)
    with pytest.raises(NotFound):
        monitors.create_rule("r", "nope", "rows > 5", 0, [])
    rule = monitors.create_rule("r", "m", "rows > 5", 3_600_000, [{"kind": "webhook"}])
    assert rule.enabled and rule.destinations == ({"kind": "webhook"},)
    with pytest.raises(AlreadyExists):
        monitors.create_rule("r", "m", "rows > 5", 0, [])
    first = monitors.record_event(_event(0))
    assert first is not None and first.deliveries == ()
    assert monitors.record_event(_event(0)) is None
    assert monitors.get_rule("r").last_fired_window_end == 60
    second = monitors.record_event(_event(60))
    assert second is not None and second.id > first.id
    monitors.set_deliveries(first.id, [{"ok": True, "attempts": 1}])
    newest_first = monitors.list_events()
    assert [e.id for e in newest_first] == [second.id, first.id]
    assert newest_first[1].deliveries == ({"ok": True, "attempts": 1},)
    assert [e.id for e in monitors.list_events(after_id=first.id)] == [second.id]
    with pytest.raises(NotFound):
        monitors.set_deliveries(10_000, [])
    assert not monitors.set_rule_enabled("r", False).enabled


def test_deleting_a_monitor_keeps_its_alert_history(monitors: SqlMonitorStore) -> None:
    monitors.create_monitor("m", "d", {}, 0)
    monitors.create_rule("r", "m", "rows > 5", 0, [])
    monitors.add_results("m", [_result(0)])
    monitors.record_event(_event(0))
    monitors.delete_monitor("m")
    assert monitors.list_rules() == [] and monitors.list_monitors() == []
    assert len(monitors.list_events(monitor="m")) == 1
    with pytest.raises(NotFound):
        monitors.list_results("m")
    with pytest.raises(NotFound, match="loopml alerts rules"):
        monitors.delete_rule("r")
    # A new monitor of the same name starts afresh.
    monitors.create_monitor("m", "d", {}, 0)
    assert monitors.list_results("m") == []
