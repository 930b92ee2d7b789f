"""The monitor store interface: monitors, window results, alert rules, alert events.

The SQL store (SQLite and PostgreSQL, on the tracking store's database)
implements it; the remote store (``loopml.monitoring``'s REST client of a
loopml server) implements it too.

Callers (``loopml.monitoring.Monitors``) validate names, specs and conditions
first; the store guarantees atomicity and the two invariants that make
monitoring safe with several server workers: a window's result is written
once (``add_results`` ignores windows already there), and a rule fires at
most once per window (``record_event`` answers None when it already did).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.core.errors import NotFound
from loopml.store.monitor_records import (
    AlertEvent,
    AlertRule,
    Monitor,
    MonitorResult,
    NewAlertEvent,
)

MAX_RESULTS = 10_000


class MonitorStore(abc.ABC):
    """Where monitors, their results, alert rules and alert events live."""

    # -- monitors ---------------------------------------------------------------------
    @abc.abstractmethod
    def create_monitor(
        self, name: str, deployment: str, spec: Mapping[str, Any], start_time: int
    ) -> Monitor:
        """Create a monitor; AlreadyExists if the name is taken."""

    @abc.abstractmethod
    def get_monitor(self, name: str) -> Monitor:
        """One monitor; NotFound otherwise."""

    @abc.abstractmethod
    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        """Every monitor (of one deployment when given), by name."""

    @abc.abstractmethod
    def delete_monitor(self, name: str) -> None:
        """Delete a monitor with its results and rules (events stay); NotFound."""

    # -- results ----------------------------------------------------------------------
    @abc.abstractmethod
    def add_results(self, name: str, results: Sequence[MonitorResult]) -> int:
        """Store window results, skipping windows already stored; how many were new.

        Moves the monitor's ``last_window_end`` forward to the newest end given.
        """

    @abc.abstractmethod
    def list_results(
        self,
        name: str,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 1000,
    ) -> list[MonitorResult]:
        """Results with ``since_ms <= window_end`` and ``window_start < until_ms``.

        The newest ``limit`` of them, oldest first. NotFound for an unknown monitor.
        """

    @abc.abstractmethod
    def latest_results(self) -> list[tuple[Monitor, MonitorResult]]:
        """The newest result of every monitor that has one (for ``/metrics``)."""

    # -- alert rules --------------------------------------------------------------------
    @abc.abstractmethod
    def create_rule(
        self,
        name: str,
        monitor: str,
        condition: str,
        cooldown_ms: int,
        destinations: Sequence[Mapping[str, Any]],
    ) -> AlertRule:
        """Create a rule; AlreadyExists if the name is taken, NotFound for the monitor."""

    @abc.abstractmethod
    def get_rule(self, name: str) -> AlertRule:
        """One rule; NotFound otherwise."""

    @abc.abstractmethod
    def list_rules(self, monitor: str | None = None) -> list[AlertRule]:
        """Every rule (of one monitor when given), by name."""

    @abc.abstractmethod
    def set_rule_enabled(self, name: str, enabled: bool) -> AlertRule:
        """Turn a rule on or off; NotFound."""

    @abc.abstractmethod
    def delete_rule(self, name: str) -> None:
        """Delete a rule (its events stay); NotFound."""

    # -- alert events -------------------------------------------------------------------
    @abc.abstractmethod
    def record_event(self, event: NewAlertEvent) -> AlertEvent | None:
        """Store a firing and mark the rule fired at its window; None if that window fired.

        One transaction: the event row and the rule's ``last_fired_window_end``.
        """

    @abc.abstractmethod
    def set_deliveries(self, event_id: int, deliveries: Sequence[Mapping[str, Any]]) -> None:
        """Record how sending an event went; NotFound for an unknown event."""

    @abc.abstractmethod
    def list_events(
        self,
        *,
        rule: str | None = None,
        monitor: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[AlertEvent]:
        """Events, by id.

        With ``after_id`` the first ``limit`` events after it, oldest first (a
        subscriber's cursor); without, the newest ``limit``, newest first.
        """


def missing_monitor(name: str) -> NotFound:
    return NotFound(f"No monitor named {name!r}: `loopml monitor list` shows the monitors.")


def missing_rule(name: str) -> NotFound:
    return NotFound(f"No alert rule named {name!r}: `loopml alerts rules` shows the rules.")
