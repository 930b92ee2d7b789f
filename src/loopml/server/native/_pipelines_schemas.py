"""Bodies of the native pipelines API, built on the pipeline records.

Responses wrap the frozen records of ``loopml.store.pipeline_records`` (each
entity is described once); requests forbid unknown fields and are validated
strictly from the raw bytes (``_route``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from loopml.store import MAX_CACHE_LOOKUP, Schedule, StepCacheEntry


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    pass


class CreateSchedule(Request):
    name: str
    target: str = Field(description="module:pipeline, imported from workdir.")
    cron: str = Field(description="A cron expression, in UTC, e.g. '0 3 * * *'.")
    params: dict[str, str] = Field(default_factory=dict)
    missed: str = Field(default="skip", description="'skip' or 'run-once'.")
    executor: str = Field(default="local", description="local, ray or inline.")
    workdir: str = Field(description="The folder the module is imported from.")


class CacheLookup(Request):
    keys: list[str] = Field(max_length=MAX_CACHE_LOOKUP)


class CachePut(Request):
    run_id: str
    step: str
    outputs: str = Field(description="The outputs JSON text the pipeline layer wrote.")


class ScheduleOut(Response):
    schedule: Schedule


class SchedulesOut(Response):
    schedules: list[Schedule]


class CacheEntriesOut(Response):
    entries: list[StepCacheEntry]
