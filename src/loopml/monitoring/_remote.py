"""Remote mode: the monitors and alerts of a loopml server, over its native API.

``RemoteMonitors`` has the public methods of ``Monitors``; each is one
request, and the server runs the same ``Monitors`` behind it, so the rules
and the errors are the same embedded and remote. ``open_monitors`` picks one
for a tracking client.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

from loopml.core.errors import InvalidArgument
from loopml.monitoring._monitors import DEFAULT_COOLDOWN, MonitorRun, Monitors
from loopml.monitoring._spec import MAX_WINDOWS
from loopml.monitoring._timeline import MonitorReport
from loopml.store import (
    AlertEvent,
    AlertRule,
    Monitor,
    MonitorResult,
    SqlTrackingStore,
)
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

_MONITOR = TypeAdapter(Monitor)
_MONITORS = TypeAdapter(list[Monitor])
_RESULTS = TypeAdapter(list[MonitorResult])
_EVENTS = TypeAdapter(list[AlertEvent])
_RULE = TypeAdapter(AlertRule)
_RULES = TypeAdapter(list[AlertRule])


def _monitor_path(name: str) -> str:
    return f"/monitors/{quote(name, safe='')}"


def _rule_path(name: str) -> str:
    return f"/alerts/rules/{quote(name, safe='')}"


def _params(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


class RemoteMonitors:
    """The monitors of the loopml server a tracking client talks to.

    Alert rules come back as the API shows them: destinations redacted.
    """

    def __init__(self, client: Client) -> None:
        if not isinstance(client.store, RestTrackingStore):
            raise InvalidArgument(f"{client.tracking_uri!r} is not a loopml server.")
        self.client = client
        self._rest = client.store

    def _call(self, method: str, path: str, payload: Any = None, **params: Any) -> Any:
        return self._rest.call(method, path, payload, _params(**params) or None)

    def create(
        self,
        name: str,
        deployment: str,
        *,
        window: str | int | float = "1h",
        step: str | int | float | None = None,
        task: str | None = None,
        target: str | None = None,
        columns: Sequence[str] | None = None,
        reference: str | None = None,
        drift: Mapping[str, Any] | None = None,
        roles: Sequence[str] = ("primary", "canary"),
        start_ms: int | None = None,
        max_windows: int = MAX_WINDOWS,
    ) -> Monitor:
        payload = {
            "name": name,
            "deployment": deployment,
            "window": window,
            "step": step,
            "task": task,
            "target": target,
            "columns": list(columns) if columns is not None else None,
            "reference": reference,
            "drift": dict(drift) if drift is not None else None,
            "roles": list(roles),
            "start_ms": start_ms,
            "max_windows": max_windows,
        }
        return _MONITOR.validate_python(self._call("POST", "/monitors", payload)["monitor"])

    def get(self, name: str) -> Monitor:
        return _MONITOR.validate_python(self._call("GET", _monitor_path(name))["monitor"])

    def list(self, deployment: str | None = None) -> builtins.list[Monitor]:
        found = self._call("GET", "/monitors", deployment=deployment)["monitors"]
        return _MONITORS.validate_python(found)

    def delete(self, name: str) -> None:
        self._call("DELETE", _monitor_path(name))

    def run(self, name: str, *, until_ms: int | None = None) -> MonitorRun:
        done = self._call("POST", _monitor_path(name) + "/run", {"until_ms": until_ms})
        return MonitorRun(
            done["monitor"],
            tuple(_RESULTS.validate_python(done["results"])),
            tuple(_EVENTS.validate_python(done["events"])),
        )

    def run_all(self, *, until_ms: int | None = None) -> builtins.list[MonitorRun]:
        return [self.run(m.name, until_ms=until_ms) for m in self.list()]

    def results(
        self,
        name: str,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 1000,
    ) -> builtins.list[MonitorResult]:
        found = self._call(
            "GET",
            _monitor_path(name) + "/results",
            since_ms=since_ms,
            until_ms=until_ms,
            limit=limit,
        )["results"]
        return _RESULTS.validate_python(found)

    def report(
        self, name: str, *, since_ms: int | None = None, until_ms: int | None = None
    ) -> MonitorReport:
        found = self._call(
            "GET",
            _monitor_path(name) + "/report",
            format="json",
            since_ms=since_ms,
            until_ms=until_ms,
        )
        return MonitorReport.from_dict(found)

    def add_rule(
        self,
        name: str,
        monitor: str,
        condition: str,
        *,
        cooldown: str | int | float = DEFAULT_COOLDOWN,
        webhooks: Sequence[str] = (),
        slack: Sequence[str] = (),
        secret: str | None = None,
    ) -> AlertRule:
        payload = {
            "name": name,
            "monitor": monitor,
            "condition": condition,
            "cooldown": cooldown,
            "webhooks": list(webhooks),
            "slack": list(slack),
            "secret": secret,
        }
        return _RULE.validate_python(self._call("POST", "/alerts/rules", payload)["rule"])

    def rules(self, monitor: str | None = None) -> builtins.list[AlertRule]:
        return _RULES.validate_python(self._call("GET", "/alerts/rules", monitor=monitor)["rules"])

    def get_rule(self, name: str) -> AlertRule:
        return _RULE.validate_python(self._call("GET", _rule_path(name))["rule"])

    def set_rule_enabled(self, name: str, enabled: bool) -> AlertRule:
        found = self._call("PATCH", _rule_path(name), {"enabled": enabled})["rule"]
        return _RULE.validate_python(found)

    def remove_rule(self, name: str) -> None:
        self._call("DELETE", _rule_path(name))

    def events(
        self,
        *,
        rule: str | None = None,
        monitor: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[AlertEvent]:
        found = self._call(
            "GET", "/alerts/events", rule=rule, monitor=monitor, after_id=after_id, limit=limit
        )["events"]
        return _EVENTS.validate_python(found)


def open_monitors(client: Client | None = None) -> Monitors | RemoteMonitors:
    """The monitors of a tracking client's store: embedded, or its server's."""
    client = client if client is not None else get_client()
    if isinstance(client.store, SqlTrackingStore):
        return Monitors(client)
    return RemoteMonitors(client)
