"""The UI benchmark's runs: one experiment, the same seeded data for loopml and MLflow.

Standard library only: both loaders import it, ``load_loopml.py`` in the project
venv and ``load_mlflow.py`` in MLflow's. Each run has METRICS metrics with one
point each (its latest value) and PARAMS params; one run, the "big" run, has a
metric with ``big_points`` points instead (the run page's chart). Runs start a
minute apart, so "newest first" is the same order in both stores.

    LOOPML_BENCH_UI_RUNS     runs in the experiment (default 10,000)
    LOOPML_BENCH_UI_POINTS   points of the big run's metric (default 100,000)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass

SEED = 20240612
GENERATOR_VERSION = 1  # bump when the data below changes: the cache key changes with it
EXPERIMENT = "ui-bench"
USER = "bench"
BASE_TIME_MS = 1_700_000_000_000
METRICS = 50
PARAMS = 50
COMPARED_RUNS = 100
BIG_KEY = "m00"  # the big run's long metric (the other runs hold one point of it)
_OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "lion")
_MODELS = ("resnet18", "resnet50", "vit-b16", "convnext-t", "efficientnet-b0", "mlp")


@dataclass(frozen=True)
class Size:
    """What the data is made of; its ``key`` names the cached databases."""

    runs: int = 10_000
    big_points: int = 100_000
    metrics: int = METRICS
    params: int = PARAMS
    seed: int = SEED
    version: int = GENERATOR_VERSION

    @classmethod
    def from_env(cls) -> Size:
        """The issue's size unless the environment asks for a smaller (smoke) run."""
        runs = int(os.environ.get("LOOPML_BENCH_UI_RUNS", "10000"))
        points = int(os.environ.get("LOOPML_BENCH_UI_POINTS", "100000"))
        if runs < 2 or points < 1:
            raise ValueError("LOOPML_BENCH_UI_RUNS must be >= 2, LOOPML_BENCH_UI_POINTS >= 1")
        return cls(runs=runs, big_points=points)

    @property
    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return f"r{self.runs}-p{self.big_points}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"

    @property
    def big_run(self) -> int:
        return self.runs // 2

    def compared(self) -> list[int]:
        """Indexes of the runs the compare view shows: COMPARED_RUNS spread over the experiment."""
        count = min(COMPARED_RUNS, self.runs)
        return [i * self.runs // count for i in range(count)]


@dataclass(frozen=True)
class RunData:
    """One run as both loaders write it."""

    index: int
    name: str
    start_time: int
    end_time: int
    params: dict[str, str]
    metrics: list[tuple[str, float, int, int]]  # (key, value, timestamp ms, step)


def run_name(index: int) -> str:
    return f"run-{index:05d}"


def metric_keys(size: Size) -> list[str]:
    return [f"m{k:02d}" for k in range(size.metrics)]


def runs(size: Size) -> Iterator[RunData]:
    """Every run, in start-time order, from one seeded generator."""
    rng = random.Random(size.seed)
    keys = metric_keys(size)
    for index in range(size.runs):
        start = BASE_TIME_MS + index * 60_000
        end = start + 20_000 + rng.randrange(30_000)
        params = {f"p{p:02d}": _param(rng, p) for p in range(size.params)}
        metrics = [(key, round(rng.random(), 6), end, 0) for key in keys]
        if index == size.big_run:
            metrics = [m for m in metrics if m[0] != BIG_KEY] + _curve(rng, size, start, end)
        yield RunData(index, run_name(index), start, end, params, metrics)


def _param(rng: random.Random, p: int) -> str:
    kind = p % 4
    if kind == 0:
        return f"{10 ** rng.uniform(-5, -1):.3g}"  # a learning rate
    if kind == 1:
        return str(rng.choice((16, 32, 64, 128, 256, 512)))
    if kind == 2:
        return rng.choice(_OPTIMIZERS if p % 8 == 2 else _MODELS)
    return str(rng.randrange(1000))


def _curve(
    rng: random.Random, size: Size, start: int, end: int
) -> list[tuple[str, float, int, int]]:
    """The big run's training curve: a decay with noise and a few spikes."""
    n = size.big_points
    span = max(1, end - start)
    points = []
    for step in range(n):
        value = 2.0 * math.exp(-5.0 * step / n) + 0.05 * rng.random()
        if rng.random() < 1e-4:
            value *= 3.0  # a spike the downsampling must keep
        points.append((BIG_KEY, round(value, 6), start + step * span // n, step))
    return points
