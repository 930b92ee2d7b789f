"""Firing alert rules on a monitor's new window results.

Called by a monitor run right after it stored its new windows. Each enabled
rule walks the new windows in time order with the streak and cooldown rules
of ``should_fire``; a firing is recorded first (the store refuses a second
event for the same rule and window, so two server workers never both send)
and delivered after, with the outcome of every delivery written back to the
event. Delivery never raises: a dead webhook is an event with a failed
delivery, and the monitor keeps running.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from loopml.alerts._conditions import Condition, describe, parse_condition, should_fire
from loopml.alerts._delivery import Delivery, deliver_all
from loopml.alerts._destinations import Destination
from loopml.store import AlertEvent, AlertRule, Monitor, MonitorResult, MonitorStore, NewAlertEvent

log = logging.getLogger("loopml.alerts")

Deliver = Callable[[Sequence[Destination], Mapping[str, Any]], list[Delivery]]


def _streaks(
    condition: Condition, history: Sequence[MonitorResult], new: Sequence[MonitorResult]
) -> list[tuple[MonitorResult, list[dict[str, float | None]]]]:
    """For each new window, the metrics of the windows up to it (the last ``windows``)."""
    ordered = [*history, *new]
    first_new = len(history)
    need = condition.windows
    return [
        (ordered[i], [r.metrics for r in ordered[max(0, i - need + 1) : i + 1]])
        for i in range(first_new, len(ordered))
    ]


def fire_rules(
    store: MonitorStore,
    monitor: Monitor,
    new_results: Sequence[MonitorResult],
    *,
    deliver: Deliver = deliver_all,
) -> list[AlertEvent]:
    """Evaluate every enabled rule of ``monitor`` on its new windows; the events fired."""
    if not new_results:
        return []
    new = sorted(new_results, key=lambda r: r.window_start)
    fired: list[AlertEvent] = []
    for rule in store.list_rules(monitor.name):
        if rule.enabled:
            fired.extend(_fire_rule(store, monitor, rule, new, deliver))
    return fired


def _fire_rule(
    store: MonitorStore,
    monitor: Monitor,
    rule: AlertRule,
    new: Sequence[MonitorResult],
    deliver: Deliver,
) -> list[AlertEvent]:
    condition = parse_condition(rule.condition)
    history: list[MonitorResult] = []
    if condition.windows > 1:
        before = store.list_results(
            monitor.name, until_ms=new[0].window_start, limit=condition.windows - 1
        )
        history = [r for r in before if r.window_start < new[0].window_start]
    last_fired = rule.last_fired_window_end
    events: list[AlertEvent] = []
    for result, recent in _streaks(condition, history, new):
        if not should_fire(
            condition,
            recent,
            window_end_ms=result.window_end,
            last_fired_window_end_ms=last_fired,
            cooldown_ms=rule.cooldown_ms,
        ):
            continue
        value = result.metrics.get(condition.metric)
        event = store.record_event(
            NewAlertEvent(
                rule=rule.name,
                monitor=monitor.name,
                deployment=monitor.deployment,
                metric=condition.metric,
                value=value,
                condition=rule.condition,
                window_start=result.window_start,
                window_end=result.window_end,
                message=describe(condition, value, monitor.name),
            )
        )
        last_fired = result.window_end
        if event is None:
            continue  # another worker fired this window already, and sends it
        events.append(_send(store, rule, event, deliver))
    return events


def _send(store: MonitorStore, rule: AlertRule, event: AlertEvent, deliver: Deliver) -> AlertEvent:
    destinations = [Destination.from_dict(d) for d in rule.destinations]
    if not destinations:
        return event
    deliveries = [d.to_dict() for d in deliver(destinations, event.to_dict())]
    for delivery in deliveries:
        if not delivery.get("ok"):
            log.warning(
                "Alert %s of rule %s was not delivered to %s: %s",
                event.id,
                rule.name,
                delivery.get("url"),
                delivery.get("error"),
            )
    store.set_deliveries(event.id, deliveries)
    return dataclasses.replace(event, deliveries=tuple(deliveries))
