"""Frozen records of pipeline schedules and of the step cache.

A ``Schedule`` says which pipeline (``module:pipeline``) the server's
scheduler runs, when (a cron expression, evaluated in UTC), with which
parameters, and what to do about slots missed while no scheduler ran. A
``StepCacheEntry`` points a step's cache key at the step run whose outputs
it stands for. Times are epoch milliseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class MissedRuns(enum.StrEnum):
    """What a scheduler does with slots that passed while it was not running."""

    SKIP = "skip"  # forget them: wait for the next future slot
    RUN_ONCE = "run-once"  # one catch-up run now, however many were missed


@dataclass(frozen=True, slots=True)
class Schedule:
    """A pipeline run on a cron schedule.

    ``params`` holds the pipeline's parameters as text (converted with the
    pipeline's signature when it runs, as ``--param k=v`` is). ``workdir`` is
    the folder the target module is imported from. ``last_run_id`` is the
    pipeline run the last firing started (None until one has).
    """

    name: str
    target: str
    cron: str
    params: dict[str, str] = field(hash=False)
    missed: str
    executor: str
    workdir: str
    next_run_time: int
    last_fire_time: int | None
    last_run_id: str | None
    created_time: int
    updated_time: int


@dataclass(frozen=True, slots=True)
class StepCacheEntry:
    """The successful step run whose outputs a cache key stands for.

    ``outputs`` is the JSON text the pipeline layer wrote (each output's
    format, id and files); the store keeps it as it is.
    """

    cache_key: str
    run_id: str
    step: str
    outputs: str
    created: int = 0
