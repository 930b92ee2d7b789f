"""``/api/v1/policies``, ``/api/v1/policy-runs`` and ``/api/v1/policy-events``.

Handlers parse, call the ``Policies`` service and render; the remote SDK
(``loopml.automation._remote``) reaches the service through these routes.
A tick requested here (``loopml policies run-pending`` against a server)
trains inside the server, beside its stores, as the scheduler would.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from loopml.automation import Policies, Policy
from loopml.server._deps import per_app, service
from loopml.server.native import _policies_schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.server.native._schemas import Empty
from loopml.store import MAX_EVENTS
from loopml.tracking import Client

router = APIRouter(tags=["automation"], route_class=StrictJsonRoute)
NAME = "/policies/{name}"


def policies(request: Request, client: Client = Depends(service)) -> Policies:
    """The policies service over this server's stores (built once per app)."""
    return per_app(request, "policies", Policies, client)


@router.post("/policies", response_model=s.PolicyOut, summary="Create (or replace) a policy")
def create_policy(body: s.SavePolicy, service: Policies = Depends(policies)) -> s.PolicyOut:
    policy = Policy.from_dict(body.policy)
    saved = service.apply(policy) if body.replace else service.create(policy)
    return s.PolicyOut(policy=saved.to_dict())


@router.get("/policies", response_model=s.PoliciesOut, summary="List policies, by name")
def list_policies(service: Policies = Depends(policies)) -> s.PoliciesOut:
    return s.PoliciesOut(policies=[p.to_dict() for p in service.list()])


@router.get(NAME, response_model=s.PolicyOut, summary="Get a policy")
def get_policy(name: str, service: Policies = Depends(policies)) -> s.PolicyOut:
    return s.PolicyOut(policy=service.get(name).to_dict())


@router.put(NAME, response_model=s.PolicyOut, summary="Replace a policy")
def update_policy(
    name: str, body: s.SavePolicy, service: Policies = Depends(policies)
) -> s.PolicyOut:
    policy = Policy.from_dict({**body.policy, "name": name})
    return s.PolicyOut(policy=service.update(policy).to_dict())


@router.delete(NAME, response_model=Empty, summary="Delete a policy (its runs stay)")
def delete_policy(name: str, service: Policies = Depends(policies)) -> Empty:
    service.delete(name)
    return Empty()


@router.post(NAME + "/trigger", response_model=s.RunOut, summary="Queue a run of a policy")
def trigger_policy(
    name: str, body: s.TriggerPolicy, service: Policies = Depends(policies)
) -> s.RunOut:
    return s.RunOut(run=service.trigger(name, reason=body.reason))


@router.post("/policy-runs/poll", response_model=s.RunsOut, summary="Poll every trigger once")
def poll_triggers(body: s.Tick, service: Policies = Depends(policies)) -> s.RunsOut:
    return s.RunsOut(runs=service.poll_triggers())


@router.post(
    "/policy-runs/tick",
    response_model=s.RunsOut,
    summary="Poll the triggers and advance every active run (what the scheduler does)",
)
def tick(body: s.Tick, service: Policies = Depends(policies)) -> s.RunsOut:
    return s.RunsOut(runs=service.tick())


@router.get("/policy-runs", response_model=s.RunsOut, summary="Policy runs, newest first")
def list_runs(
    policy: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
    service: Policies = Depends(policies),
) -> s.RunsOut:
    return s.RunsOut(runs=service.runs(policy, limit=limit))


@router.get("/policy-runs/{run_id}", response_model=s.RunOut, summary="Get a policy run")
def get_run(run_id: int, service: Policies = Depends(policies)) -> s.RunOut:
    return s.RunOut(run=service.get_run(run_id))


@router.get("/policy-events", response_model=s.EventsOut, summary="Policy events, oldest first")
def list_events(
    policy: str | None = None,
    run_id: int | None = None,
    limit: int = Query(1000, ge=1, le=MAX_EVENTS),
    service: Policies = Depends(policies),
) -> s.EventsOut:
    return s.EventsOut(events=service.events(policy, run_id=run_id, limit=limit))
