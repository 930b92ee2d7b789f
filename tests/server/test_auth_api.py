"""``/api/v1/auth``, ``/users``, ``/workspaces``: tokens for yourself, the rest for admins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from auth_support import ADMIN, BOB, AuthWorld, auth_world, basic, bearer


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AuthWorld]:
    with auth_world(tmp_path) as running:
        yield running


@pytest.fixture
def bob(world: AuthWorld) -> httpx.Client:
    return world.http(headers=basic(*BOB))


@pytest.fixture
def admin(world: AuthWorld) -> httpx.Client:
    return world.http(headers=basic(*ADMIN))


def test_whoami(bob: httpx.Client, admin: httpx.Client) -> None:
    assert bob.get("/api/v1/auth/whoami").json()["user"]["name"] == "bob"
    assert admin.get("/api/v1/auth/whoami").json()["user"]["is_admin"] is True


def test_create_list_use_and_revoke_own_token(world: AuthWorld, bob: httpx.Client) -> None:
    made = bob.post("/api/v1/auth/tokens", json={"name": "laptop", "expires_in_days": 7})
    assert made.status_code == 200, made.text
    secret, info = made.json()["token"], made.json()["info"]
    assert secret.startswith(f"lmt_{info['id']}_")
    assert info["user"] == "bob" and info["expires_time"] > info["created_time"]
    listed = bob.get("/api/v1/auth/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [info["id"]]
    assert all("secret" not in t and "token" not in t for t in listed)
    with_token = world.http(headers=bearer(secret))
    assert with_token.get("/api/v1/auth/whoami").json()["user"]["token_id"] == info["id"]
    revoked = with_token.delete(f"/api/v1/auth/tokens/{info['id']}")  # a token revokes itself
    assert revoked.status_code == 200
    assert revoked.json()["info"]["revoked_time"] is not None
    assert with_token.get("/api/v1/auth/whoami").status_code == 401


def test_token_without_expiry_and_bad_bodies(bob: httpx.Client) -> None:
    forever = bob.post("/api/v1/auth/tokens", json={"name": "ci", "expires_in_days": None})
    assert forever.json()["info"]["expires_time"] is None
    for body, status in (
        ({"name": "x", "expires_in_days": -1}, 400),
        ({"name": "x", "expires_in_days": "7"}, 400),
        ({"name": "has space"}, 400),
        ({"name": ""}, 400),
        ({"name": "x", "surprise": 1}, 400),
        ({}, 400),
    ):
        answer = bob.post("/api/v1/auth/tokens", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_non_admins_act_only_for_themselves(
    world: AuthWorld, bob: httpx.Client, admin: httpx.Client
) -> None:
    for_admin = bob.post("/api/v1/auth/tokens", json={"name": "sneaky", "user": "admin"})
    assert for_admin.status_code == 403
    admin_token = world.gov.create_token("admin", "own").info.id
    assert bob.delete(f"/api/v1/auth/tokens/{admin_token}").status_code == 403
    assert bob.get("/api/v1/auth/tokens", params={"user": "admin"}).status_code == 403
    assert bob.delete("/api/v1/auth/tokens/0123456789abcdef").status_code == 404
    for method, path, body in (
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"name": "eve", "password": "eve-long-password"}),
        ("POST", "/api/v1/users/admin/disable", None),
        ("GET", "/api/v1/workspaces", None),
        ("POST", "/api/v1/workspaces", {"name": "fraud"}),
        ("GET", "/api/v1/workspaces/default/members", None),
        ("PUT", "/api/v1/workspaces/default/members/bob", {"role": "admin"}),
        ("DELETE", "/api/v1/workspaces/default/members/bob", None),
    ):
        answer = bob.request(method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error_code"] == "PERMISSION_DENIED"
    assert admin.get("/api/v1/auth/whoami").status_code == 200  # nothing above changed admin


def test_admin_manages_users_service_accounts_and_their_tokens(
    world: AuthWorld, admin: httpx.Client
) -> None:
    made = admin.post("/api/v1/users", json={"name": "ci-bot", "kind": "service"})
    assert made.status_code == 200, made.text
    assert made.json()["user"]["kind"] == "service"
    assert "password_hash" not in made.json()["user"]
    token = admin.post("/api/v1/auth/tokens", json={"name": "deploy", "user": "ci-bot"})
    assert token.status_code == 200, token.text
    robot = world.http(headers=bearer(token.json()["token"]))
    assert robot.get("/api/v1/auth/whoami").json()["user"]["kind"] == "service"
    everyone = admin.get("/api/v1/auth/tokens").json()["tokens"]
    assert {t["user"] for t in everyone} == {"ci-bot"}
    names = {u["name"] for u in admin.get("/api/v1/users").json()["users"]}
    assert names == {"admin", "bob", "ci-bot"}
    bad = admin.post(
        "/api/v1/users", json={"name": "svc2", "kind": "service", "password": "x" * 20}
    )
    assert bad.status_code == 400
    weak = admin.post("/api/v1/users", json={"name": "carol", "password": "short"})
    assert weak.status_code == 400 and "too weak" in weak.json()["message"]
    taken = admin.post("/api/v1/users", json={"name": "bob", "password": "another-long-one"})
    assert taken.status_code == 409
    disabled = admin.post("/api/v1/users/ci-bot/disable")
    assert disabled.json()["user"]["disabled"] is True
    assert robot.get("/api/v1/auth/whoami").status_code == 401
    assert admin.post("/api/v1/users/nobody/disable").status_code == 404


def test_admin_manages_workspaces_and_members(admin: httpx.Client) -> None:
    made = admin.post("/api/v1/workspaces", json={"name": "fraud", "description": "risk team"})
    assert made.status_code == 200, made.text
    names = {w["name"] for w in admin.get("/api/v1/workspaces").json()["workspaces"]}
    assert {"default", "fraud"} <= names
    put = admin.put("/api/v1/workspaces/fraud/members/bob", json={"role": "maintainer"})
    assert put.status_code == 200, put.text
    members = admin.get("/api/v1/workspaces/fraud/members").json()["members"]
    assert [(m["user"], m["role"]) for m in members] == [("bob", "maintainer")]
    assert (
        admin.put("/api/v1/workspaces/fraud/members/bob", json={"role": "boss"}).status_code == 400
    )
    assert (
        admin.put("/api/v1/workspaces/fraud/members/nobody", json={"role": "viewer"}).status_code
        == 404
    )
    assert (
        admin.put("/api/v1/workspaces/nope/members/bob", json={"role": "viewer"}).status_code == 404
    )
    removed = admin.delete("/api/v1/workspaces/fraud/members/bob")
    assert removed.status_code == 200 and removed.json()["members"] == []
    assert admin.post("/api/v1/workspaces", json={"name": "fraud"}).status_code == 409
