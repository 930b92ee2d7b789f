"""Every route of the app refuses an anonymous request unless it is on the public list."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from auth_support import AuthWorld, auth_world
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from loopml.server._auth import PUBLIC_PATHS, is_public

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthWorld]:
    with auth_world(tmp_path_factory.mktemp("walk")) as running:
        yield running


def _requests(world: AuthWorld) -> list[tuple[str, str]]:
    """(method, concrete path) for every route and mount, path parameters filled in."""
    found: list[tuple[str, str]] = []
    for route in iter_route_contexts(world.app.routes):
        original = route.original_route
        if isinstance(original, Mount):
            found.append(("GET", original.path + "/loopml.css"))
            found.append(("GET", original.path + "/no-such-file"))
            continue
        template = route.path_format or route.path
        assert template, f"a route without a path: {route!r}"
        path = _PARAM.sub(lambda m: f"dummy-{m.group(1)}", template)
        for method in sorted(route.methods or {"GET"}):
            found.append((method, path))
    return found


def test_the_walk_covers_the_whole_app(world: AuthWorld) -> None:
    requests = _requests(world)
    paths = {path for _, path in requests}
    assert len(requests) > 150  # every API, MLflow and UI route, not just a few
    for expected in (
        "/api/v1/experiments",
        "/api/2.0/mlflow/runs/create",
        "/api/v1/auth/tokens",
        "/api/v1/users",
        "/experiments",
        "/metrics",
        "/static/loopml.css",
        "/login",
        "/logout",
    ):
        assert expected in paths, expected


def test_every_non_public_route_refuses_anonymous_requests(world: AuthWorld) -> None:
    http = httpx.Client(base_url=world.url, timeout=30, follow_redirects=False)
    wrong: list[str] = []
    for method, path in _requests(world):
        answer = http.request(method, path)
        where = f"{method} {path} -> {answer.status_code}"
        if is_public(path):
            if answer.status_code in (401, 403) or _to_login(answer):
                wrong.append(f"public but refused: {where}")
        elif answer.status_code == 401:
            if method != "HEAD" and answer.json()["error_code"] != "UNAUTHENTICATED":
                wrong.append(f"401 without UNAUTHENTICATED: {where}")
        elif not _to_login(answer):
            wrong.append(f"reachable anonymously: {where}")
    assert not wrong, "\n".join(wrong)


def _to_login(answer: httpx.Response) -> bool:
    location = answer.headers.get("location", "")
    return answer.status_code == 303 and location.split("?")[0] == "/login"


def test_the_public_list_is_exactly_this() -> None:
    assert PUBLIC_PATHS == ("/healthz", "/readyz", "/health", "/login", "/static/")
    for path in ("/healthz", "/readyz", "/health", "/login", "/static/loopml.css"):
        assert is_public(path), path
    for path in (
        "/",
        "/logout",
        "/loginx",
        "/login/x",
        "/healthz/x",
        "/static",
        "/metrics",
        "/docs",
        "/openapi.json",
        "/api/v1/auth/whoami",
        "/api/v1/auth/tokens",
        "/ui/api/runs/x/metrics/y",
    ):
        assert not is_public(path), path
    assert is_public("/metrics", public_metrics=True)
    assert not is_public("/metricsx", public_metrics=True)
