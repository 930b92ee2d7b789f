"""The UI's login: the page, the session cookie's flags, ``next``, CSRF, logout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_support import ADMIN, BOB, AuthWorld, auth_world

from loopml.registry import Registry
from loopml.server._auth_login import safe_next


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AuthWorld]:
    with auth_world(tmp_path) as running:
        yield running


def test_login_page_renders_a_form(world: AuthWorld) -> None:
    page = world.http().get("/login?next=/models")
    assert page.status_code == 200
    assert '<form method="post" action="/login"' in page.text
    assert 'name="next" value="/models"' in page.text
    assert 'type="password"' in page.text
    assert "Content-Security-Policy" in page.headers


def test_login_sets_a_strict_session_cookie_and_follows_next(world: AuthWorld) -> None:
    http = world.http()
    answer = http.post("/login", data={**_creds(BOB), "next": "/models?x=1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/models?x=1"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("loopml_session=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # plain http without --cookie-secure
    assert any(flag.startswith("max-age=") for flag in flags)
    page = http.get("/models")
    assert page.status_code == 200
    assert 'id="whoami">bob<' in page.text


def test_cookie_secure_flag(tmp_path: Path) -> None:
    with auth_world(tmp_path, cookie_secure=True) as running:
        answer = running.http().post("/login", data=_creds(BOB))
        assert answer.status_code == 303
        flags = {p.strip().lower() for p in answer.headers["set-cookie"].split(";")[1:]}
        assert "secure" in flags


def test_https_request_gets_a_secure_cookie(world: AuthWorld) -> None:
    # uvicorn trusts X-Forwarded-Proto from loopback (its default forwarded_allow_ips)
    answer = world.http().post("/login", data=_creds(BOB), headers={"X-Forwarded-Proto": "https"})
    assert answer.status_code == 303
    assert "; secure" in answer.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("user", "password"),
    [("bob", "wrong-password-here"), ("nobody", "any-password-at-all"), ("bob", ""), ("", "x")],
)
def test_failed_login_shows_a_generic_error(world: AuthWorld, user: str, password: str) -> None:
    answer = world.http().post("/login", data={"username": user, "password": password})
    assert answer.status_code == 401
    assert "invalid user name or password" in answer.text
    assert 'id="login-error"' in answer.text
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "experiments",
        "/ok\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_next_is_a_local_path_only(world: AuthWorld, target: str) -> None:
    assert safe_next(target) == "/experiments"
    answer = world.http().post("/login", data={**_creds(BOB), "next": target})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/experiments"


def test_logged_in_user_visiting_login_goes_on(world: AuthWorld) -> None:
    browser, _ = world.login(*BOB)
    answer = browser.get("/login?next=/models")
    assert (answer.status_code, answer.headers["location"]) == (303, "/models")


def test_session_state_change_without_csrf_token_is_403(world: AuthWorld) -> None:
    browser, csrf = world.login(*BOB)
    refused = browser.post("/api/v1/experiments", json={"name": "no-csrf"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    wrong = browser.post(
        "/api/v1/experiments", json={"name": "bad-csrf"}, headers={"X-CSRF-Token": "nope"}
    )
    assert wrong.status_code == 403
    accepted = browser.post(
        "/api/v1/experiments", json={"name": "with-csrf"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200, accepted.text
    # reads need no token
    assert browser.get("/api/v1/experiments").status_code == 200


def test_plain_form_post_carries_the_token_in_a_field(world: AuthWorld) -> None:
    Registry(world.client).create_registered_model("churn")
    browser, csrf = world.login(*ADMIN)
    page = browser.get("/models/churn")
    assert f'name="csrf_token" value="{csrf}"' in page.text  # every form carries it
    form = {"step": "review", "reason": "replayed-reason-7"}
    refused = browser.post("/models/churn/aliases/champion/rollback", data=form)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    answer = browser.post(
        "/models/churn/aliases/champion/rollback", data={**form, "csrf_token": csrf}
    )
    assert answer.status_code == 200, answer.text
    assert "replayed-reason-7" in answer.text  # the app read the body the middleware read


def test_htmx_sends_the_token_by_configuration(world: AuthWorld) -> None:
    browser, csrf = world.login(*BOB)
    page = browser.get("/experiments")
    assert f'hx-headers=\'{{"X-CSRF-Token": "{csrf}"}}\'' in page.text


def test_token_requests_need_no_csrf_token(world: AuthWorld) -> None:
    token = world.gov.create_token("bob", "script").secret
    answer = world.http().post(
        "/api/v1/experiments",
        json={"name": "scripted"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


def test_logout_ends_the_session(world: AuthWorld) -> None:
    browser, csrf = world.login(*BOB)
    cookie = browser.cookies["loopml_session"]
    assert browser.post("/logout").status_code == 403  # CSRF applies to logout too
    answer = browser.post("/logout", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert "loopml_session=" in answer.headers["set-cookie"]
    assert "max-age=0" in answer.headers["set-cookie"].lower()
    replayed = world.http(cookies={"loopml_session": cookie}).get("/experiments")
    assert replayed.status_code == 303  # the old cookie is dead on the server too
    assert replayed.headers["location"].startswith("/login")


def test_stale_cookie_does_not_block_public_pages(world: AuthWorld) -> None:
    stale = world.http(cookies={"loopml_session": "not-a-session"})
    assert stale.get("/login").status_code == 200
    assert stale.get("/healthz").status_code == 200
    api = stale.get("/api/v1/experiments")
    assert api.status_code == 401
    assert "log in again" in api.json()["message"]


def _creds(user: tuple[str, str]) -> dict[str, str]:
    return {"username": user[0], "password": user[1]}
