"""Every route of the app is in the permission table; an unlisted one is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from authz_world import STORES, World, authz_world
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from loopml.server._permissions import PERMISSIONS, PUBLIC, route_key


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with authz_world(tmp_path_factory.mktemp("authz-routes"), request.param) as made:
        yield made


def _keys(app: FastAPI) -> dict[str, bool]:
    """Each route's table key, and whether the authorization dependency runs on it."""
    found: dict[str, bool] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found[route_key("GET", context.path_format)] = False
            continue
        for method in sorted(set(context.methods or ()) - {"HEAD"}):
            found[route_key(method, context.path_format)] = isinstance(route, APIRoute)
    return found


def test_every_route_is_in_the_table(world: World) -> None:
    keys = _keys(world.http.app)  # type: ignore[arg-type]
    missing = sorted(key for key in keys if key not in PERMISSIONS)
    assert not missing, f"Routes with no permission entry: {missing}"


def test_routes_outside_fastapi_are_public(world: World) -> None:
    # Starlette routes and mounts (docs, static files) do not run FastAPI dependencies.
    keys = _keys(world.http.app)  # type: ignore[arg-type]
    unchecked = sorted(k for k, checked in keys.items() if not checked and PERMISSIONS[k] != PUBLIC)
    assert not unchecked, f"Not public, but never authorized: {unchecked}"


def test_the_table_names_no_missing_route(world: World) -> None:
    keys = _keys(world.http.app)  # type: ignore[arg-type]
    stale = sorted(key for key in PERMISSIONS if key not in keys)
    assert not stale, f"Permission entries for routes that do not exist: {stale}"


def test_an_unlisted_route_is_refused_even_for_an_admin(tmp_path: Path) -> None:
    with authz_world(tmp_path) as made:
        app: FastAPI = made.http.app  # type: ignore[assignment]

        @app.get("/api/v1/not-in-the-table")
        def unlisted() -> dict[str, bool]:
            return {"reached": True}

        answer = made.call("root", "GET", "/api/v1/not-in-the-table")
        assert answer.status_code == 403
        assert (
            "GET /api/v1/not-in-the-table is not in the server's permission table"
            in (answer.json()["message"])
        )


def test_public_routes_need_no_role(world: World) -> None:
    assert world.http.get("/healthz").status_code == 200
    # Signed in with no role anywhere: the API docs are not a workspace's.
    assert world.call("none", "GET", "/openapi.json").status_code == 200


def test_bad_input_is_a_clear_400_or_404(world: World) -> None:
    log = "/api/2.0/mlflow/runs/log-metric"
    malformed = world.call("editor", "POST", log, content=b"{not json")
    assert malformed.status_code == 400
    assert "Malformed JSON" in malformed.json()["message"]
    missing = world.call("editor", "POST", log, json={"key": "a", "value": 1})
    assert missing.status_code == 400
    assert "run_id" in missing.json()["message"]
    unknown = world.call("editor", "GET", "/api/v1/runs/0123456789abcdef0123456789abcdef")
    assert unknown.status_code == 404
    nowhere = world.call(
        "editor", "GET", "/api/2.0/mlflow-artifacts/artifacts", params={"path": ""}
    )
    assert nowhere.status_code == 404
