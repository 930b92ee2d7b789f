"""Authentication of requests: tokens, passwords, sessions, refusals, request ids, CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from auth_support import ADMIN, BOB, AuthWorld, auth_world, basic, bearer, make_client, serve

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidState
from loopml.governance import Governance
from loopml.governance._audit import AuditLog
from loopml.server import create_app


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AuthWorld]:
    with auth_world(tmp_path) as running:
        yield running


def test_auth_refuses_to_start_without_an_admin(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    try:
        with pytest.raises(InvalidState, match="loopml users create-admin"):
            create_app(client, auth=True)
    finally:
        client.close()


def test_anonymous_api_request_is_401_with_a_challenge(world: AuthWorld) -> None:
    answer = world.http().get("/api/v1/experiments")
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "UNAUTHENTICATED"
    assert "Authentication required" in answer.json()["message"]
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="loopml"') and 'Basic realm="loopml"' in challenge


def test_anonymous_page_is_redirected_to_login_with_next(world: AuthWorld) -> None:
    answer = world.http().get("/experiments?sort=name")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/experiments%3Fsort%3Dname"


def test_anonymous_htmx_request_gets_hx_redirect(world: AuthWorld) -> None:
    answer = world.http().get("/experiments", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"] == "/login?next=/experiments"


def test_public_paths_answer_anonymously(world: AuthWorld) -> None:
    http = world.http()
    for path in ("/healthz", "/readyz", "/health", "/login", "/static/loopml.css"):
        assert http.get(path).status_code == 200, path
    assert http.get("/metrics").status_code == 401


def test_public_metrics_flag(tmp_path: Path) -> None:
    with auth_world(tmp_path, public_metrics=True) as running:
        answer = running.http().get("/metrics")
        assert answer.status_code == 200
        assert "loopml_http_requests_total" in answer.text


def test_bearer_token(world: AuthWorld) -> None:
    token = world.gov.create_token("bob", "laptop").secret
    answer = world.http().get("/api/v1/auth/whoami", headers=bearer(token))
    assert answer.status_code == 200
    user = answer.json()["user"]
    assert (user["name"], user["via"], user["is_admin"]) == ("bob", "token", False)
    assert user["token_id"] == token.split("_")[1]
    created = world.http().post(
        "/api/v1/experiments", headers=bearer(token), json={"name": "by-token"}
    )
    assert created.status_code == 200, created.text


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Bearer lmt_nothex_abc", "Malformed API token"),
        ("Bearer lmt_0123456789abcdef_" + "A" * 43, "Unknown API token"),
        ("Bearer", "holds no token"),
        ("Basic !!!notbase64", "Malformed Basic credentials"),
        ("Basic " + "Ym9i", "expected user:password"),  # "bob" with no colon
        ("Digest abc", "Unsupported authorization scheme"),
    ],
)
def test_bad_credentials_are_401_with_the_reason(
    world: AuthWorld, header: str, reason: str
) -> None:
    answer = world.http().get("/api/v1/experiments", headers={"Authorization": header})
    assert answer.status_code == 401
    assert reason in answer.json()["message"]
    assert "invalid_token" in answer.headers["www-authenticate"]


def test_revoked_token_is_refused(world: AuthWorld) -> None:
    made = world.gov.create_token("bob", "ci")
    http = world.http(headers=bearer(made.secret))
    assert http.get("/api/v1/auth/whoami").status_code == 200
    world.gov.revoke_token(made.info.id)
    answer = http.get("/api/v1/auth/whoami")
    assert answer.status_code == 401
    assert "revoked" in answer.json()["message"]


def test_expired_token_is_refused(world: AuthWorld) -> None:
    ten_days_ago = now_ms() - 10 * 86_400_000
    past = Governance(world.client, clock=lambda: ten_days_ago)
    token = past.create_token("bob", "old", expires_in_days=1).secret
    answer = world.http().get("/api/v1/auth/whoami", headers=bearer(token))
    assert answer.status_code == 401
    assert "expired" in answer.json()["message"]


def test_basic_password_and_token_as_password(world: AuthWorld) -> None:
    http = world.http()
    answer = http.get("/api/v1/auth/whoami", headers=basic(*BOB))
    assert answer.status_code == 200
    assert answer.json()["user"]["via"] == "password"
    again = http.get("/api/v1/auth/whoami", headers=basic(*BOB))  # from the verified cache
    assert again.json()["user"]["name"] == "bob"
    token = world.gov.create_token("bob", "basic-tool").secret
    for user in ("bob", "token", ""):
        found = http.get("/api/v1/auth/whoami", headers=basic(user, token))
        assert found.status_code == 200, user
        assert found.json()["user"]["via"] == "token"
    other = http.get("/api/v1/auth/whoami", headers=basic("admin", token))
    assert other.status_code == 401
    assert "belongs to another user" in other.json()["message"]


def test_wrong_password_is_generic_and_slowed_down(world: AuthWorld) -> None:
    frozen = now_ms()  # the server's clock stands still: the back-off never runs out
    world.app.state.governance = Governance(world.client, clock=lambda: frozen)
    http = world.http()
    for _ in range(5):
        answer = http.get("/api/v1/experiments", headers=basic("bob", "not-the-password"))
        assert answer.status_code == 401
        assert answer.json()["message"] == "Invalid user name or password."
    unknown = http.get("/api/v1/experiments", headers=basic("nobody", "whatever-password"))
    assert unknown.json()["message"] == "Invalid user name or password."
    slowed = http.get("/api/v1/experiments", headers=basic("bob", "not-the-password"))
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) >= 1
    assert "Too many failed logins" in slowed.json()["message"]
    # the right password waits too: the slow-down does not even check it
    assert http.get("/api/v1/experiments", headers=basic(*BOB)).status_code == 429


def test_disabled_user_is_refused_mid_session(world: AuthWorld) -> None:
    browser, _csrf = world.login(*BOB)
    token = world.gov.create_token("bob", "laptop").secret
    api = world.http()
    assert api.get("/api/v1/auth/whoami", headers=basic(*BOB)).status_code == 200
    world.gov.disable_user("bob")
    page = browser.get("/experiments")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    assert "loopml_session=;" in page.headers["set-cookie"]  # the dead cookie is dropped
    assert api.get("/api/v1/auth/whoami", headers=bearer(token)).status_code == 401
    # a password verified a moment ago is not trusted past the user's disabling
    assert api.get("/api/v1/auth/whoami", headers=basic(*BOB)).status_code == 401


def test_request_id_is_kept_or_made_and_echoed(world: AuthWorld) -> None:
    http = world.http()
    given = http.get("/healthz", headers={"X-Request-ID": "trace-42.a:b"})
    assert given.headers["x-request-id"] == "trace-42.a:b"
    refused = http.get("/api/v1/experiments", headers={"X-Request-ID": "bad id\twith junk"})
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])


def test_auth_off_sets_the_local_principal(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    try:
        with serve(create_app(client)) as url:
            http = httpx.Client(base_url=url, timeout=30)
            named = http.get("/api/v1/auth/whoami", headers={"X-Loopml-User": "carol"})
            assert named.json()["user"] == {
                "name": "carol",
                "kind": "human",
                "is_admin": False,
                "via": "local",
                "token_id": None,
            }
            assert named.headers["x-request-id"]
            default = http.get("/api/v1/auth/whoami", headers={"X-Loopml-User": "no spaces!"})
            assert default.json()["user"]["name"] not in ("", "no spaces!")
            assert http.get("/experiments").status_code == 200
            assert http.get("/metrics").status_code == 200
    finally:
        client.close()


def test_logins_and_tokens_are_audited(world: AuthWorld) -> None:
    http = world.http()
    assert (
        http.post("/login", data={"username": "bob", "password": "wrong-password!"}).status_code
        == 401
    )
    world.login(*BOB)
    made = world.http(headers=basic(*BOB)).post("/api/v1/auth/tokens", json={"name": "x"})
    token_id = made.json()["info"]["id"]
    world.http(headers=basic(*BOB)).delete(f"/api/v1/auth/tokens/{token_id}")
    actions = {(e.action, e.actor, e.object_id) for e in AuditLog(world.client).list()}
    assert ("login.failure", "bob", "bob") in actions
    assert ("login", "bob", "bob") in actions
    assert ("token.create", "bob", token_id) in actions
    assert ("token.revoke", "bob", token_id) in actions


def test_admin_exists_check_uses_enabled_admins(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    try:
        gov = Governance(client)
        gov.create_admin(*ADMIN)
        gov.disable_user("admin")
        with pytest.raises(InvalidState):
            create_app(client, auth=True)
    finally:
        client.close()


def test_token_use_is_audited_once_a_minute_reads_included(world: AuthWorld) -> None:
    token = world.gov.create_token("bob", "reader")
    http = world.http(headers=bearer(token.secret))
    for _ in range(3):
        assert http.get("/api/v1/auth/whoami").status_code == 200
    uses = [e for e in AuditLog(world.client).list() if e.action == "token.use"]
    assert [(e.actor, e.object_type, e.object_id) for e in uses] == [
        ("bob", "api_token", token.info.id)
    ]
    assert uses[0].summary["path"] == "/api/v1/auth/whoami" and uses[0].source == "127.0.0.1"
