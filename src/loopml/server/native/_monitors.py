"""``/api/v1/monitors`` and ``/api/v1/alerts``: monitors, their results and reports, alerts.

Handlers parse, call the ``Monitors`` service and render; every rule lives
in the service, which the remote SDK reaches through these routes
(``loopml.monitoring._remote``). A monitor run happens here, beside the
prediction log and the reference data in the server's object store.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from loopml.monitoring import Monitors, redacted_rule
from loopml.server._deps import per_app, service
from loopml.server.native import _monitors_schemas as s
from loopml.server.native._route import StrictJsonRoute
from loopml.server.native._schemas import Empty
from loopml.store import MAX_RESULTS
from loopml.tracking import Client

router = APIRouter(tags=["monitoring"], route_class=StrictJsonRoute)
NAME = "/monitors/{name}"
RULE = "/alerts/rules/{name}"


def monitors(request: Request, client: Client = Depends(service)) -> Monitors:
    """The monitors service over this server's stores (built once per app)."""
    return per_app(request, "monitors", Monitors, client)


@router.post("/monitors", response_model=s.MonitorOut, summary="Create a monitor")
def create_monitor(body: s.CreateMonitor, service: Monitors = Depends(monitors)) -> s.MonitorOut:
    created = service.create(
        body.name,
        body.deployment,
        window=body.window,
        step=body.step,
        task=body.task,
        target=body.target,
        columns=body.columns,
        reference=body.reference,
        drift=body.drift,
        roles=body.roles,
        start_ms=body.start_ms,
        max_windows=body.max_windows,
    )
    return s.MonitorOut(monitor=created)


@router.get("/monitors", response_model=s.MonitorsOut, summary="List monitors, by name")
def list_monitors(
    deployment: str | None = None, service: Monitors = Depends(monitors)
) -> s.MonitorsOut:
    return s.MonitorsOut(monitors=service.list(deployment))


@router.get(NAME, response_model=s.MonitorOut, summary="Get a monitor")
def get_monitor(name: str, service: Monitors = Depends(monitors)) -> s.MonitorOut:
    return s.MonitorOut(monitor=service.get(name))


@router.delete(NAME, response_model=Empty, summary="Delete a monitor, its results and rules")
def delete_monitor(name: str, service: Monitors = Depends(monitors)) -> Empty:
    service.delete(name)
    return Empty()


@router.post(
    NAME + "/run",
    response_model=s.RunOut,
    summary="Compute the monitor's pending windows now and fire its alert rules",
)
def run_monitor(name: str, body: s.RunMonitor, service: Monitors = Depends(monitors)) -> s.RunOut:
    done = service.run(name, until_ms=body.until_ms)
    return s.RunOut(monitor=done.monitor, results=list(done.results), events=list(done.events))


@router.get(NAME + "/results", response_model=s.ResultsOut, summary="Window results, oldest first")
def list_results(
    name: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int = Query(1000, ge=1, le=MAX_RESULTS),
    service: Monitors = Depends(monitors),
) -> s.ResultsOut:
    found = service.results(name, since_ms=since_ms, until_ms=until_ms, limit=limit)
    return s.ResultsOut(results=found)


@router.get(
    NAME + "/report",
    summary="The monitor's report: one offline HTML file, or its JSON document",
    response_class=HTMLResponse,
)
def report(
    name: str,
    format: str = Query("html", pattern="^(html|json)$"),
    since_ms: int | None = None,
    until_ms: int | None = None,
    service: Monitors = Depends(monitors),
) -> Response:
    built = service.report(name, since_ms=since_ms, until_ms=until_ms)
    if format == "json":
        return Response(built.to_json(), media_type="application/json")
    # The report is self-contained; a strict policy keeps it from loading anything.
    headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return HTMLResponse(built._repr_html_(), headers=headers)


@router.post("/alerts/rules", response_model=s.RuleOut, summary="Create an alert rule")
def create_rule(body: s.CreateRule, service: Monitors = Depends(monitors)) -> s.RuleOut:
    created = service.add_rule(
        body.name,
        body.monitor,
        body.condition,
        cooldown=body.cooldown,
        webhooks=body.webhooks,
        slack=body.slack,
        secret=body.secret,
    )
    return s.RuleOut(rule=redacted_rule(created))


@router.get("/alerts/rules", response_model=s.RulesOut, summary="List alert rules, by name")
def list_rules(monitor: str | None = None, service: Monitors = Depends(monitors)) -> s.RulesOut:
    return s.RulesOut(rules=[redacted_rule(r) for r in service.rules(monitor)])


@router.get(RULE, response_model=s.RuleOut, summary="Get an alert rule")
def get_rule(name: str, service: Monitors = Depends(monitors)) -> s.RuleOut:
    return s.RuleOut(rule=redacted_rule(service.get_rule(name)))


@router.patch(RULE, response_model=s.RuleOut, summary="Turn an alert rule on or off")
def update_rule(name: str, body: s.UpdateRule, service: Monitors = Depends(monitors)) -> s.RuleOut:
    return s.RuleOut(rule=redacted_rule(service.set_rule_enabled(name, body.enabled)))


@router.delete(RULE, response_model=Empty, summary="Delete an alert rule (its events stay)")
def delete_rule(name: str, service: Monitors = Depends(monitors)) -> Empty:
    service.remove_rule(name)
    return Empty()


@router.get(
    "/alerts/events",
    response_model=s.EventsOut,
    summary="Alert events: newest first, or after an id, oldest first (a subscriber's cursor)",
)
def list_events(
    rule: str | None = None,
    monitor: str | None = None,
    after_id: int | None = None,
    limit: int = Query(100, ge=1, le=MAX_RESULTS),
    service: Monitors = Depends(monitors),
) -> s.EventsOut:
    found = service.events(rule=rule, monitor=monitor, after_id=after_id, limit=limit)
    return s.EventsOut(events=found)
