"""Monitor results on the server's ``/metrics``: the newest window of every monitor.

Results live in the metadata database, so this collector reads them at
scrape time (one query) instead of keeping per-process gauges: every worker
answers the same, and a monitor run by the CLI shows up as well as one run
by the server's scheduler. Prometheus stores the series over time; the
window's end time is exported too, so a stale monitor can be alerted on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loopml.core.errors import LoopmlError
from loopml.store import MonitorStore

log = logging.getLogger("loopml.server")

_COLUMN_PREFIXES = {"drift_score.": "score", "drift.": "drifted"}


class MonitorCollector(Collector):
    """Gauges of the newest window result of each monitor."""

    def __init__(self, store: MonitorStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        value = GaugeMetricFamily(
            "loopml_monitor_value",
            "The newest window's metrics of each monitor (drift share, accuracy, error rate...).",
            labels=["monitor", "deployment", "metric"],
        )
        column = GaugeMetricFamily(
            "loopml_monitor_column_drift",
            "Per-column drift of each monitor's newest window: the test score, and 1 if drifted.",
            labels=["monitor", "deployment", "column", "kind"],
        )
        window_end = GaugeMetricFamily(
            "loopml_monitor_window_end_timestamp_seconds",
            "The end of each monitor's newest computed window.",
            labels=["monitor", "deployment"],
        )
        try:
            latest = self.store.latest_results()
        except LoopmlError as exc:  # a scrape never fails because the database is away
            log.warning("loopml: monitor metrics unavailable: %s", exc.message)
            latest = []
        for monitor, result in latest:
            window_end.add_metric([monitor.name, monitor.deployment], result.window_end / 1000)
            for name, number in result.metrics.items():
                if number is None:
                    continue
                prefix = next((p for p in _COLUMN_PREFIXES if name.startswith(p)), None)
                if prefix is None:
                    value.add_metric([monitor.name, monitor.deployment, name], number)
                else:
                    labels = [monitor.name, monitor.deployment, name[len(prefix) :]]
                    column.add_metric([*labels, _COLUMN_PREFIXES[prefix]], number)
        yield from (value, column, window_end)


def monitor_exposition(store: MonitorStore) -> bytes:
    """The monitor gauges in Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(store))
    return generate_latest(registry)
