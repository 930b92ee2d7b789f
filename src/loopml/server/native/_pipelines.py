"""``/api/v1/pipelines``: pipeline schedules, and the step cache of remote pipeline runs.

Handlers parse, call the ``Schedules`` service or the pipeline store and
render; every rule (names, cron, targets, the missed-run policy) lives in
the service, which the remote SDK reaches through these routes
(``loopml.pipelines._rest``).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request

from loopml.core.errors import InvalidArgument
from loopml.core.hashing import is_hash
from loopml.core.ids import is_run_id
from loopml.pipelines import Schedules
from loopml.pipelines._step import check_name
from loopml.server._deps import per_app, service
from loopml.server.native import _pipelines_schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.server.native._schemas import Empty
from loopml.store import StepCacheEntry
from loopml.tracking import Client

router = APIRouter(prefix="/pipelines", tags=["pipelines"], route_class=StrictJsonRoute)
NAME = "/schedules/{name}"


def schedules(request: Request, client: Client = Depends(service)) -> Schedules:
    """The schedules service over this server's stores (built once per app)."""
    return per_app(request, "schedules", Schedules, client)


@router.post("/schedules", response_model=s.ScheduleOut, summary="Create a schedule")
def create_schedule(
    body: s.CreateSchedule, service: Schedules = Depends(schedules)
) -> s.ScheduleOut:
    created = service.create(
        body.name,
        target=body.target,
        cron=body.cron,
        params=body.params,
        missed=body.missed,
        executor=body.executor,
        workdir=body.workdir,
    )
    return s.ScheduleOut(schedule=created)


@router.get("/schedules", response_model=s.SchedulesOut, summary="List schedules, by name")
def list_schedules(service: Schedules = Depends(schedules)) -> s.SchedulesOut:
    return s.SchedulesOut(schedules=service.list())


@router.get(NAME, response_model=s.ScheduleOut, summary="Get a schedule")
def get_schedule(name: str, service: Schedules = Depends(schedules)) -> s.ScheduleOut:
    return s.ScheduleOut(schedule=service.get(name))


@router.delete(NAME, response_model=Empty, summary="Delete a schedule (its runs stay)")
def delete_schedule(name: str, service: Schedules = Depends(schedules)) -> Empty:
    service.remove(name)
    return Empty()


@router.post(
    "/cache/lookup",
    response_model=s.CacheEntriesOut,
    summary="The step cache entries of these keys whose runs are active and FINISHED",
)
def lookup_cache(body: s.CacheLookup, service: Schedules = Depends(schedules)) -> s.CacheEntriesOut:
    bad = next((k for k in body.keys if not is_hash(k)), None)
    if bad is not None:
        raise InvalidArgument(f"Invalid cache key {bad[:80]!r}: a 64-character BLAKE3 hex digest.")
    found = service.store.lookup_step_cache(body.keys)
    return s.CacheEntriesOut(entries=list(found.values()))


@router.put("/cache/{key}", response_model=Empty, summary="Point a cache key at a step run")
def put_cache(key: str, body: s.CachePut, service: Schedules = Depends(schedules)) -> Empty:
    if not is_hash(key):
        raise InvalidArgument(f"Invalid cache key {key[:80]!r}: a 64-character BLAKE3 hex digest.")
    if not is_run_id(body.run_id):
        raise InvalidArgument(f"Invalid run id {body.run_id[:80]!r}.")
    check_name(body.step, "step")
    try:
        outputs = json.loads(body.outputs)
    except ValueError:
        outputs = None
    if not isinstance(outputs, dict):
        raise InvalidArgument("outputs must be the JSON object of the step's outputs.")
    service.store.put_step_cache(StepCacheEntry(key, body.run_id, body.step, body.outputs))
    return Empty()
