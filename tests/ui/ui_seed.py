"""Data the registry, deployment, monitoring and data pages show, written as users write it.

Reuses the registry and monitor tests' helpers (runs holding a model folder, a
reference dataset, a minute-by-minute prediction log).
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _folder in ("registry", "monitoring"):
    if str(HERE.parent / _folder) not in sys.path:
        sys.path.insert(0, str(HERE.parent / _folder))

from monitor_support import log_windows, register_reference  # noqa: E402
from registry_support import model_run  # noqa: E402

from loopml.core.clock import now_ms  # noqa: E402
from loopml.datasets import Datasets  # noqa: E402
from loopml.deployments import Deployments, PredictionLogger, PredictionRecord  # noqa: E402
from loopml.monitoring import Monitors  # noqa: E402
from loopml.registry import Registry  # noqa: E402
from loopml.tracking import Client  # noqa: E402

XSS = "<img src=x onerror=alert(1)>"
MINUTE = 60_000


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class SeededModel:
    name: str
    runs: tuple[str, ...]
    dataset: str  # "name@version" the newest version's run read


def seed_model(client: Client, folder: Path, name: str, aucs: tuple[float, ...]) -> SeededModel:
    """A model with one version per entry of ``aucs`` (its run's metric); v1 is champion.

    The newest version's run recorded a registered dataset as its input.
    """
    registry = Registry(client)
    runs = []
    for i, auc in enumerate(aucs):
        run_id = model_run(client, folder, {"auc": auc}, weights=f"w{i}".encode())
        registry.create_model_version(name, f"runs:/{run_id}/model")
        runs.append(run_id)
    registry.set_alias(name, "champion", 1, reason="first release")
    dataset = register_reference(client, folder, unique("train"))
    Datasets(client).log_input(dataset, runs[-1], context="training")
    return SeededModel(name, tuple(runs), dataset)


@dataclass(frozen=True)
class SeededDeployment:
    name: str
    monitor: str
    rule: str
    dataset: str
    requests: int
    canary_requests: int
    canary_errors: int


CANARY_REQUESTS = 100
CANARY_ERRORS = 10


def log_canary(client: Client, deployment: str, model: str, start: int) -> None:
    """``CANARY_REQUESTS`` canary requests from ``start``, the first ``CANARY_ERRORS`` failed."""
    with PredictionLogger(client, deployment, flush_rows=10_000) as logger:
        for i in range(CANARY_REQUESTS):
            failed = i < CANARY_ERRORS
            logger.record(
                PredictionRecord(
                    request_id=f"canary-{i}",
                    time_ms=start + i * 100,
                    deployment=deployment,
                    model_uri=f"models:/{model}/2",
                    model_version="2",
                    role="canary",
                    inputs={"x": [0.5], "city": ["rome"]},
                    outputs=[] if failed else [1],
                    latency_ms=50.0,
                    error="model failed" if failed else None,
                )
            )


def seed_deployment(client: Client, folder: Path, model: str) -> SeededDeployment:
    """A deployment with a 20% canary, 3 minutes of traffic (the last one drifted) ending
    5 minutes ago, a 1-minute monitor on it run once, and a drift alert rule that fired."""
    name = unique("dep")
    Deployments(client).create(
        name,
        f"models:/{model}@champion",
        canary_uri=f"models:/{model}/2",
        canary_weight=0.2,
        description=XSS,
    )
    dataset = register_reference(client, folder, unique("ref"))
    start = (now_ms() // MINUTE - 8) * MINUTE
    log_windows(client, name, [0.0, 0.0, 3.0], base=start)
    monitors = Monitors(client)
    monitor = unique("mon")
    monitors.create(monitor, name, window="1m", reference=dataset, start_ms=start)
    rule = unique("drift-rule")
    monitors.add_rule(rule, monitor, "dataset_drift for 1 windows", cooldown=0)
    monitors.run(monitor, until_ms=start + 3 * MINUTE)
    log_canary(client, name, model, start + 4 * MINUTE)  # after the monitored windows
    return SeededDeployment(
        name, monitor, rule, dataset, 3 * 400 + CANARY_REQUESTS, CANARY_REQUESTS, CANARY_ERRORS
    )
