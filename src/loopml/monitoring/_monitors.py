"""``Monitors``: deployments watched window by window, and the alert rules on them.

::

    monitors = Monitors()                                   # over loopml.tracking.get_client()
    monitors.create("fraud-hourly", "fraud", window="1h", task="classification",
                    target="is_fraud")                      # reference: the model's training data
    monitors.add_rule("fraud-drift", "fraud-hourly", "dataset_drift for 2 windows",
                      webhooks=["https://hooks.example.com/ml"], secret="...")
    monitors.run("fraud-hourly")                            # every complete window not done yet
    monitors.results("fraud-hourly")                        # the stored time series
    monitors.events()                                       # alerts fired, newest first

A run reads the prediction log once for the windows it computes, compares
each window with the reference data (``evaluate_window``), stores the results
(written once per window), then fires the monitor's alert rules on them.
Embedded the work happens here; against a server (``RemoteMonitors``) the
same calls run on the server, beside its prediction log and object store.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loopml.alerts import (
    Destination,
    condition_text,
    deliver_all,
    fire_rules,
    parse_condition,
    parse_destination,
)
from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.datasets import Datasets
from loopml.deployments import Deployments, validate_deployment_name
from loopml.monitoring._reference import Reference, ReferenceCache, load_reference
from loopml.monitoring._report import DriftReport, drift_report
from loopml.monitoring._spec import MAX_WINDOWS, MonitorSpec, build_spec, duration
from loopml.monitoring._timeline import MonitorReport, monitor_report
from loopml.monitoring._window_eval import evaluate_window
from loopml.monitoring._windows import window_bounds
from loopml.store import (
    MAX_RESULTS,
    AlertEvent,
    AlertRule,
    Monitor,
    MonitorResult,
    SqlMonitorStore,
    SqlTrackingStore,
)
from loopml.tracking import Client, get_client

log = logging.getLogger("loopml.monitoring")

WINDOWS_PER_READ = 48  # windows evaluated per read of the prediction log
DEFAULT_COOLDOWN = "1h"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class MonitorRun:
    """What one run of a monitor did: the windows it computed and the alerts it fired."""

    monitor: str
    results: tuple[MonitorResult, ...]
    events: tuple[AlertEvent, ...]
    error: str | None = None


def validate_name(name: object, what: str) -> str:
    """Monitor and rule names: 1-256 characters of letters, digits, ``-``, ``_``, ``.``."""
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= 256
        or not set(name) <= _NAME_CHARS
        or name.startswith(".")
    ):
        raise InvalidArgument(
            f"Invalid {what} name {name!r:.80}: use 1-256 letters, digits, '-', '_' or '.'."
        )
    return name


class Monitors:
    """The monitors and alert rules of one metadata store (embedded, or inside the server)."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client if client is not None else get_client()
        if not isinstance(self.client.store, SqlTrackingStore):
            raise InvalidArgument(
                "Monitors run beside the metadata database; against a server use "
                "loopml.monitoring.open_monitors(client), which talks to its API."
            )
        self.store = SqlMonitorStore(self.client.store.db)
        self._references = ReferenceCache()

    # -- monitors ---------------------------------------------------------------------
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
        """Create a monitor of ``deployment``'s prediction log.

        Windows are ``window`` long and start every ``step`` (default: the window,
        i.e. tumbling). The first run computes windows from ``start_ms`` (default:
        the log's first row), at most the newest ``max_windows`` of them.
        """
        name = validate_name(name, "monitor")
        deployment = validate_deployment_name(deployment)
        spec = build_spec(
            window=window,
            step=step,
            task=task,
            target=target,
            columns=columns,
            reference=reference,
            drift=drift,
            roles=roles,
            max_windows=max_windows,
        )
        Deployments(self.client).get(deployment)  # NotFound says what to do
        if start_ms is not None and (isinstance(start_ms, bool) or not isinstance(start_ms, int)):
            raise InvalidArgument("start_ms must be epoch milliseconds (an integer).")
        return self.store.create_monitor(name, deployment, spec.to_dict(), start_ms or 0)

    def get(self, name: str) -> Monitor:
        return self.store.get_monitor(validate_name(name, "monitor"))

    def list(self, deployment: str | None = None) -> builtins.list[Monitor]:
        return self.store.list_monitors(deployment)

    def delete(self, name: str) -> None:
        """Delete a monitor, its results and its rules; the alert events stay as history."""
        self.store.delete_monitor(validate_name(name, "monitor"))

    # -- runs ---------------------------------------------------------------------------
    def run(self, name: str, *, until_ms: int | None = None) -> MonitorRun:
        """Compute every complete window not computed yet, store it, fire the rules."""
        monitor = self.get(name)
        spec = MonitorSpec.from_dict(monitor.spec)
        until = now_ms() if until_ms is None else int(until_ms)
        bounds = self._pending_windows(monitor, spec, until)
        if not bounds:
            return MonitorRun(monitor.name, (), ())
        try:
            reference: Reference | None = load_reference(
                self.client, spec, monitor.deployment, self._references
            )
        except LoopmlError as exc:
            # Performance and traffic metrics still count without reference data; the
            # reason drift is missing is stored with every window.
            log.warning("Monitor %s has no reference data: %s", monitor.name, exc)
            reference, missing = None, str(exc)
        else:
            missing = ""
        results: list[MonitorResult] = []
        for start in range(0, len(bounds), WINDOWS_PER_READ):
            batch = bounds[start : start + WINDOWS_PER_READ]
            results.extend(self._evaluate(monitor, spec, batch, reference, missing))
        self.store.add_results(monitor.name, results)
        deliver = functools.partial(
            deliver_all, allow_private=self.client.settings.alerts_allow_private
        )
        events = fire_rules(self.store, monitor, results, deliver=deliver)
        return MonitorRun(monitor.name, tuple(results), tuple(events))

    def run_all(self, *, until_ms: int | None = None) -> builtins.list[MonitorRun]:
        """Run every monitor; one failing monitor is reported, the others still run."""
        runs = []
        for monitor in self.list():
            try:
                runs.append(self.run(monitor.name, until_ms=until_ms))
            except LoopmlError as exc:
                log.warning("Monitor %s failed: %s", monitor.name, exc)
                runs.append(MonitorRun(monitor.name, (), (), error=str(exc)))
        return runs

    def _pending_windows(
        self, monitor: Monitor, spec: MonitorSpec, until: int
    ) -> builtins.list[tuple[int, int]]:
        after = monitor.last_window_end
        if after is None:
            segments = Deployments(self.client).list_segments(monitor.deployment)
            if not segments:
                return []
            # Windows ending after the first logged row: the first of them holds it.
            after = max(monitor.start_time, min(s.min_time for s in segments))
        return window_bounds(
            after_ms=after,
            until_ms=until,
            size_ms=spec.window_ms,
            step_ms=spec.step_ms,
            limit=spec.max_windows,
        )

    def _evaluate(
        self,
        monitor: Monitor,
        spec: MonitorSpec,
        bounds: Sequence[tuple[int, int]],
        reference: Reference | None,
        missing: str,
    ) -> builtins.list[MonitorResult]:
        frame = Deployments(self.client).read_predictions(
            monitor.deployment, since_ms=bounds[0][0], until_ms=bounds[-1][1], with_labels=True
        )
        # The log comes back ordered by time: each window is a slice, not a scan.
        times = frame["time_ms"].to_numpy() if len(frame) else None
        now = now_ms()
        out = []
        for start, end in bounds:
            rows = frame
            if times is not None:
                first, last = times.searchsorted([start, end], side="left")
                rows = frame.iloc[first:last]
            try:
                window = evaluate_window(
                    rows,
                    None if reference is None else reference.frame,
                    window_start=start,
                    window_end=end,
                    task=spec.task,
                    target=spec.target,
                    columns=spec.columns,
                    roles=spec.roles,
                    drift_options=spec.drift,
                )
                status, detail = window.status, window.detail
                shown = window.to_dict()  # non-finite metrics become None
                metrics, drift = shown["metrics"], shown["drift"]
            except LoopmlError as exc:
                status, detail, metrics, drift = "error", str(exc), {}, None
            if missing and status != "error":
                detail = f"{detail} No drift: {missing}".strip()
            out.append(
                MonitorResult(
                    monitor=monitor.name,
                    window_start=start,
                    window_end=end,
                    status=status,
                    detail=detail,
                    metrics=metrics,
                    drift=drift,
                    reference="" if reference is None else reference.label,
                    created_time=now,
                )
            )
        return out

    # -- results and reports --------------------------------------------------------------
    def results(
        self,
        name: str,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 1000,
    ) -> builtins.list[MonitorResult]:
        """Stored window results, oldest first (the newest ``limit``)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
            raise InvalidArgument(f"limit must be between 1 and {MAX_RESULTS}.")
        return self.store.list_results(
            validate_name(name, "monitor"), since_ms=since_ms, until_ms=until_ms, limit=limit
        )

    def report(
        self, name: str, *, since_ms: int | None = None, until_ms: int | None = None
    ) -> MonitorReport:
        """The monitor's report: metrics and drift scores over time, newest distributions."""
        monitor = self.get(name)
        results = self.results(name, since_ms=since_ms, until_ms=until_ms, limit=MAX_RESULTS)
        return monitor_report(
            monitor.name,
            monitor.deployment,
            [_window_dict(r) for r in results],
            latest=self._latest_distributions(monitor, results),
        )

    def _latest_distributions(
        self, monitor: Monitor, results: Sequence[MonitorResult]
    ) -> DriftReport | None:
        """Reference vs current distributions of the newest window that was tested."""
        tested = [r for r in results if r.drift is not None and r.reference]
        if not tested:
            return None
        newest = tested[-1]
        spec = MonitorSpec.from_dict(monitor.spec)
        columns = [c for c in (newest.drift or {}).get("columns", {}) if c != "prediction"]
        try:
            datasets = Datasets(self.client)
            reference = self._references.frame(datasets, datasets.get(newest.reference))
            frame = Deployments(self.client).read_predictions(
                monitor.deployment,
                since_ms=newest.window_start,
                until_ms=newest.window_end,
                with_labels=False,
            )
            frame = frame[frame["role"].isin(spec.roles)]
            current = frame.rename(columns=lambda c: c.removeprefix("input."))
            wanted = [c for c in columns if c in reference.columns and c in current.columns]
            if not wanted:
                return None
            return drift_report(reference[wanted], current[wanted], **spec.drift)
        except LoopmlError as exc:  # the data is gone: the report still has its time series
            log.warning("No distributions for monitor %s: %s", monitor.name, exc)
            return None

    # -- alert rules --------------------------------------------------------------------
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
        """An alert rule on a monitor's window metrics (``"accuracy < 0.8 for 2 windows"``).

        ``webhooks`` receive the event as signed JSON (HMAC-SHA256 with ``secret``),
        ``slack`` URLs a Slack message. ``cooldown`` is the least window time between
        two alerts of the rule.
        """
        name = validate_name(name, "alert rule")
        text = condition_text(parse_condition(condition))
        cooldown_ms = 0 if cooldown in (0, "0") else duration(cooldown, "cooldown")
        destinations: builtins.list[Destination] = [
            parse_destination("webhook", url, secret) for url in webhooks
        ]
        destinations += [parse_destination("slack", url) for url in slack]
        if secret is not None and not webhooks:
            raise InvalidArgument("A secret signs webhook deliveries: give --webhook with it.")
        return self.store.create_rule(
            name,
            validate_name(monitor, "monitor"),
            text,
            cooldown_ms,
            [d.to_dict() for d in destinations],
        )

    def rules(self, monitor: str | None = None) -> builtins.list[AlertRule]:
        return self.store.list_rules(monitor)

    def get_rule(self, name: str) -> AlertRule:
        return self.store.get_rule(validate_name(name, "alert rule"))

    def set_rule_enabled(self, name: str, enabled: bool) -> AlertRule:
        return self.store.set_rule_enabled(validate_name(name, "alert rule"), bool(enabled))

    def remove_rule(self, name: str) -> None:
        self.store.delete_rule(validate_name(name, "alert rule"))

    def events(
        self,
        *,
        rule: str | None = None,
        monitor: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[AlertEvent]:
        """Alert events: the newest first, or with ``after_id`` the next ones, oldest first.

        ``after_id`` is how automation subscribes: remember the last id seen, ask for
        what came after it.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
            raise InvalidArgument(f"limit must be between 1 and {MAX_RESULTS}.")
        if after_id is not None and (isinstance(after_id, bool) or not isinstance(after_id, int)):
            raise InvalidArgument("after_id must be an event id (an integer).")
        return self.store.list_events(rule=rule, monitor=monitor, after_id=after_id, limit=limit)


def redacted_rule(rule: AlertRule) -> AlertRule:
    """The rule as interfaces show it: no webhook secret, no Slack token."""
    shown = tuple(Destination.from_dict(d).redacted() for d in rule.destinations)
    return dataclasses.replace(rule, destinations=shown)


def _window_dict(result: MonitorResult) -> dict[str, Any]:
    return {
        "window_start": result.window_start,
        "window_end": result.window_end,
        "status": result.status,
        "detail": result.detail,
        "metrics": result.metrics,
        "drift": result.drift,
        "reference": result.reference,
    }
