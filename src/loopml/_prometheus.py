"""Prometheus exposition shared by the tracking server and the inference server.

Each app keeps its own registry, so several apps in one process (tests)
never collide. With several uvicorn workers the CLI runs them inside
``multiprocess_metrics(workers)``: prometheus-client then keeps every
worker's values in memory-mapped files in one temporary folder, and any
worker's scrape sums them all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, generate_latest, multiprocess

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def exposition(registry: CollectorRegistry) -> bytes:
    """The text a scrape gets: this process's values, or every worker's summed."""
    if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        return generate_latest(registry)
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return generate_latest(merged)


@contextmanager
def multiprocess_metrics(workers: int) -> Iterator[None]:
    """Around uvicorn's worker processes: one ``/metrics`` for all of them (workers > 1)."""
    if workers <= 1:
        yield
        return
    folder = tempfile.mkdtemp(prefix="loopml-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = folder  # read by the workers' prometheus-client
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)
