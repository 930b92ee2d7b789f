"""Prometheus metrics of the inference server (``/metrics``).

Each app has its own registry (several apps in one test process never
collide). With ``--workers N`` the CLI sets ``PROMETHEUS_MULTIPROC_DIR``
before the workers start, as ``loopml server`` does: every worker writes
its values there and a scrape of any worker sums them all.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from loopml._prometheus import exposition

_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip


class ServingMetrics:
    """Requests, latency, batches, queue depth, errors and prediction-log drops."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "loopml_serving_requests_total",
            "Prediction requests by model version, protocol and HTTP status.",
            ["model_version", "protocol", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "loopml_serving_request_duration_seconds",
            "Prediction request latency by model version and protocol.",
            ["model_version", "protocol"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "loopml_serving_batch_size",
            "Rows per model call (micro-batch).",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "loopml_serving_errors_total",
            "Failed prediction requests by protocol and kind.",
            ["protocol", "kind"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "loopml_serving_queue_depth",
            "Rows waiting for a micro-batch.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.log_dropped = Gauge(
            "loopml_serving_prediction_log_dropped",
            "Prediction-log records dropped because the sink fell behind.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.log_queue = Gauge(
            "loopml_serving_prediction_log_queue_depth",
            "Prediction-log rows waiting to be written.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.shadow_errors = Counter(
            "loopml_serving_shadow_errors_total",
            "Shadow predictions that failed (never seen by callers).",
            registry=self.registry,
        )
        self.shadow_dropped = Counter(
            "loopml_serving_shadow_skipped_total",
            "Requests not mirrored because the shadow model's queue was full.",
            registry=self.registry,
        )
        self.reloads = Counter(
            "loopml_serving_model_loads_total",
            "Model loads by outcome (loaded or failed).",
            ["outcome"],
            registry=self.registry,
        )

    def exposition(self, refresh: Callable[[], None] | None = None) -> bytes:
        """The text a scrape gets (``refresh`` first updates the gauges read on demand)."""
        if refresh is not None:
            refresh()
        return exposition(self.registry)
