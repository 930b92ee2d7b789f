"""Shared set-up of the monitor tests: reference data, a deployment, a logged window log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from loopml.datasets import Datasets
from loopml.deployments import Deployments, PredictionLogger, PredictionRecord, log_labels
from loopml.tracking import Client

MINUTE = 60_000
BASE = 1_700_000_040_000  # a whole minute, so 1-minute windows start here
ROWS_PER_WINDOW = 400


def register_reference(client: Client, folder: Path, name: str = "ref") -> str:
    """A tabular dataset (x numeric, city categorical, y label); returns ``name@1``."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "x": rng.normal(0, 1, 800),
            "city": rng.choice(["paris", "rome", "oslo"], 800),
            "y": rng.integers(0, 2, 800),
        }
    )
    path = folder / f"{name}.parquet"
    frame.to_parquet(path)
    version = Datasets(client).register(name, str(path))
    return f"{version.name}@{version.version}"


def log_windows(
    client: Client,
    deployment: str,
    shifts: list[float],
    *,
    accurate: list[bool] | None = None,
    base: int = BASE,
) -> None:
    """One minute of traffic per entry of ``shifts`` (x's mean moved by it), labelled.

    ``accurate[i]`` False makes window i's predictions wrong half the time.
    """
    rng = np.random.default_rng(11)
    labels: dict[str, int] = {}
    with PredictionLogger(client, deployment, flush_rows=10_000) as logger:
        for w, shift in enumerate(shifts):
            xs = rng.normal(shift, 1, ROWS_PER_WINDOW)
            cities = rng.choice(["paris", "rome", "oslo"], ROWS_PER_WINDOW)
            truth = rng.integers(0, 2, ROWS_PER_WINDOW)
            right = accurate[w] if accurate is not None else True
            wrong = rng.random(ROWS_PER_WINDOW) < (0.0 if right else 0.5)
            for i in range(ROWS_PER_WINDOW):
                rid = f"w{w}-r{i}"
                predicted = int(truth[i]) ^ int(wrong[i])
                logger.record(
                    PredictionRecord(
                        request_id=rid,
                        time_ms=base + w * MINUTE + i * 100,
                        deployment=deployment,
                        model_uri=f"models:/{deployment}@champion",
                        model_version="1",
                        role="primary",
                        inputs={"x": [float(xs[i])], "city": [str(cities[i])]},
                        outputs=[predicted],
                        latency_ms=2.0 + i % 5,
                    )
                )
                labels[rid] = int(truth[i])
    log_labels(deployment, labels, client=client)


def create_deployment(client: Client, name: str = "fraud") -> str:
    Deployments(client).create(name, "models:/fraud@champion")
    return name
