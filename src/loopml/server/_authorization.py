"""Authorization of every route, in one place: the app-level dependency over ``_permissions``.

Installed on the app (``FastAPI(dependencies=authorization_dependencies())``) when
auth is on, it runs after routing and before each handler: it finds the route's
entry in the permission table, reads the values the entry names (path, query,
JSON body), finds the owning workspace(s) and asks ``Governance.authorize`` for
the action there. Roles are read on every request, so a removed member or a
changed role counts from the next request on.

- A route with no table entry is refused (403) and logged: new routes fail closed.
- Listings run with the caller's readable workspaces as the store's visibility
  scope, so searches, lists and UI pages return only what the caller may read.
- Creations (experiments, registered models, datasets, deployments, policies)
  are checked in the request's workspace (``X-Loopml-Workspace``, ``?workspace=``,
  for MLflow creations also a ``loopml.workspace`` tag, else "default") and the
  new object is assigned there after the handler succeeds, before the response
  is sent (a ``function``-scoped ``yield``).
- Global admins pass every check (creations are still assigned); requests
  without auth (``via="local"``) never reach this: it is not installed then.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.params import Depends as DependsParam
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool

from loopml.core.errors import PermissionDenied, Unauthenticated
from loopml.governance import Governance, Principal
from loopml.server._authorization_inputs import read
from loopml.server._authorization_targets import Resolution, Resolver
from loopml.server._permissions import (
    GlobalAdmin,
    Listing,
    Public,
    Requirement,
    SignedIn,
    Source,
    requirement,
    route_key,
)
from loopml.store import visible_workspaces

log = logging.getLogger("loopml.server.authorization")

_NOT_LISTED = (
    "{key} is not in the server's permission table, so it is refused: "
    "add it to loopml/server/_permissions.py."
)


def route_formats(app: FastAPI) -> dict[int, list[Any]]:
    """Each route object's (id) contexts in the app: its full path templates and regexes."""
    found: dict[int, list[Any]] = {}
    for context in iter_route_contexts(app.routes):
        found.setdefault(id(context.original_route), []).append(context)
    return found


def _route_key(request: Request) -> str | None:
    route = request.scope.get("route")
    if route is None:
        return None
    app: FastAPI = request.app
    index: dict[int, list[Any]] | None = getattr(app.state, "route_formats", None)
    if index is None or id(route) not in index:
        index = route_formats(app)
        app.state.route_formats = index
    contexts = index.get(id(route), [])
    path = request.scope.get("path", "")
    matching = [c for c in contexts if len(contexts) == 1 or c.path_regex.match(path)]
    if not matching:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return route_key(method, matching[0].path_format)


def _sources(needed: Requirement) -> list[Source]:
    found: list[Source] = []
    for check in needed:
        for name in ("source", "old", "new", "workspace_tag"):
            source = getattr(check.target, name, None)
            if source is not None and source not in found:
                found.append(source)
    return found


def _readable(governance: Governance, principal: Principal) -> list[str]:
    """The workspaces ``principal`` holds a role in (any role may read)."""
    return [
        w.name
        for w in governance.list_workspaces()
        if governance.role_of(principal.name, w.name) is not None
    ]


def _decide(
    request: Request,
    principal: Principal,
    needed: Requirement,
    values: dict[Source, list[str]],
) -> tuple[Resolution, list[str] | None]:
    """Check every part of ``needed``; what to do after the handler, and the visibility scope."""
    resolver = Resolver(request, values)
    governance = resolver.governance
    admin = principal.is_admin or principal.via == "local"
    done = Resolution()
    visible: list[str] | None = None
    for check in needed:
        target = check.target
        if isinstance(target, SignedIn):
            continue
        if isinstance(target, GlobalAdmin):
            if not admin:
                raise PermissionDenied(f"User {principal.name!r} is not an admin: this needs one.")
            continue
        if isinstance(target, Listing):
            visible = None if admin else _readable(governance, principal)
            continue
        found = resolver.resolve(target)
        for workspace in dict.fromkeys(found.workspaces):
            governance.authorize(principal, workspace, check.action)
        done.after.extend(found.after)
    return done, visible


async def authorize_request(request: Request) -> AsyncIterator[None]:
    """Refuse the request unless its principal may do what its route's entry says."""
    key = _route_key(request)
    needed = requirement(*key.split(" ", 1)) if key is not None else None
    if needed is None:
        shown = key or f"{request.method} {request.url.path}"
        log.error("Refused %s: the route has no permission entry.", shown)
        raise PermissionDenied(_NOT_LISTED.format(key=shown))
    if all(isinstance(check.target, Public) for check in needed):
        yield
        return
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthenticated("Sign in (or send an API token) to use this endpoint.")
    values = {source: await read(request, source) for source in _sources(needed)}
    done, visible = await run_in_threadpool(_decide, request, principal, needed, values)
    async with AsyncExitStack() as stack:
        if visible is not None:
            stack.enter_context(visible_workspaces(visible))
        yield
    for after in done.after:
        await run_in_threadpool(after)


def authorization_dependencies() -> list[DependsParam]:
    """The app-level dependencies that authorize every route (pass to ``FastAPI``)."""
    return [Depends(authorize_request, scope="function")]
