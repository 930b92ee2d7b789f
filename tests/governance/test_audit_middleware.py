"""The audit middleware through the real app: what a mutating request leaves in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from audit_world import empty_audit, fill, sql
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from loopml.governance import Governance
from loopml.governance._audit import AuditEntry, AuditLog
from loopml.server import create_app
from loopml.server._audit import RefusalThrottle, install_audit
from loopml.tracking import Client

ADMIN = ("admin", "admin-passphrase-1")
BOB = ("bob", "bob-has-a-passphrase")


@pytest.fixture
def sqlite_client(tmp_path) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = Client(f"sqlite:///{tmp_path / 'loopml.db'}", object_store_uri=str(tmp_path / "o"))
    yield client
    client.close()


def _entries(client: Client) -> list[AuditEntry]:
    return AuditLog(client).list()


def test_a_mutating_request_is_recorded_with_who_where_and_request_id(client: Client) -> None:
    empty_audit(client)
    http = TestClient(create_app(client))
    created = http.post(
        "/api/v1/experiments",
        json={"name": "churn"},
        headers={"X-Request-ID": "req-abc", "X-Loopml-User": "alice"},
    )
    assert created.status_code == 200 and created.headers["x-request-id"] == "req-abc"
    experiment_id = created.json()["experiment_id"]
    http.delete(
        f"/api/v1/experiments/{experiment_id}?token=s3cret", headers={"X-Loopml-User": "bob"}
    )
    deleted, made = _entries(client)
    assert (made.actor, made.action, made.request_id, made.source) == (
        "alice",
        "create_experiment",
        "req-abc",
        "testclient",
    )
    assert (made.object_type, made.summary["outcome"], made.summary["status"]) == (
        "experiment",
        "ok",
        200,
    )
    assert (deleted.actor, deleted.action) == ("bob", "delete_experiment")
    assert (deleted.object_type, deleted.object_id) == ("experiment", experiment_id)
    assert deleted.summary["path_params"] == {"experiment_id": experiment_id}
    assert deleted.summary["query"] == {"token": "[redacted]"}
    assert len(deleted.request_id) == 32  # a new id when the caller sent none
    assert AuditLog(client).verify().ok


def test_reads_and_searches_are_not_recorded(sqlite_client: Client) -> None:
    http = TestClient(create_app(sqlite_client))
    assert http.get("/api/v1/experiments").status_code == 200
    assert http.post("/api/v1/runs/search", json={"experiment_ids": ["0"]}).status_code == 200
    assert http.get("/experiments").status_code == 200
    assert _entries(sqlite_client) == []


def test_failures_are_recorded_as_errors(sqlite_client: Client) -> None:
    http = TestClient(create_app(sqlite_client))
    assert http.delete("/api/v1/policies/nope").status_code == 404
    assert http.post("/api/v1/nowhere", json={}).status_code == 404
    unmatched, missing = _entries(sqlite_client)
    assert (missing.action, missing.object_type, missing.object_id) == (
        "delete_policy",
        "policy",
        "nope",
    )
    assert missing.summary["outcome"] == "error"
    assert unmatched.action == "POST /api/v1/nowhere"
    assert unmatched.summary["status"] == 404


def test_refusals_and_token_use_are_recorded_with_auth_on(sqlite_client: Client) -> None:
    gov = Governance(sqlite_client)
    gov.create_admin(*ADMIN)
    gov.create_user(*BOB)
    token = gov.create_token("admin", "ci")
    http = TestClient(create_app(sqlite_client, auth=True))
    refused = http.post("/api/v1/workspaces", json={"name": "fraud"}, auth=BOB)
    assert refused.status_code == 403
    made = http.post(
        "/api/v1/workspaces",
        json={"name": "fraud"},
        headers={"Authorization": f"Bearer {token.secret}"},
    )
    assert made.status_code < 300
    entries = [e for e in _entries(sqlite_client) if e.action == "create_workspace"]
    ok, denied = entries
    assert (denied.actor, denied.summary["outcome"], denied.summary["status"]) == (
        "bob",
        "denied",
        403,
    )
    assert (ok.actor, ok.summary["outcome"], ok.summary["token_id"]) == (
        "admin",
        "ok",
        token.info.id,
    )
    assert token.secret not in str(ok.to_dict())


def test_a_failed_audit_write_never_fails_the_request(
    sqlite_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    log = AuditLog(sqlite_client)
    fill(log, 2)
    sql(log, "DELETE FROM audit_head")  # appends are refused from now on
    http = TestClient(create_app(sqlite_client))
    with caplog.at_level(logging.ERROR, logger="loopml.server.audit"):
        answer = http.post(
            "/api/v1/experiments", json={"name": "x"}, headers={"X-Request-ID": "r-9"}
        )
    assert answer.status_code == 200
    assert any("r-9" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def _tiny_app(client: Client) -> FastAPI:
    """An app whose inner middleware refuses anonymous requests, with a route that fails."""
    app = FastAPI()
    app.state.client = client

    @app.post("/api/v1/things/{name}")
    def fail(name: str) -> None:
        raise RuntimeError("boom")

    class Refuse:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/private"):
                scope.setdefault("state", {})["principal"] = None
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"no"})
                return
            await self.inner(scope, receive, send)  # type: ignore[operator]

    app.add_middleware(Refuse)
    install_audit(app)  # outside the refusing one: it sees its refusals
    return app


def test_unhandled_errors_and_anonymous_refusals_are_recorded(sqlite_client: Client) -> None:
    http = TestClient(_tiny_app(sqlite_client), raise_server_exceptions=False)
    assert http.post("/api/v1/things/a").status_code == 500
    assert http.post("/private/x").status_code == 401
    refused, failed = _entries(sqlite_client)
    assert (failed.object_type, failed.object_id, failed.summary["outcome"]) == (
        "things",  # an unknown collection keeps its name
        "a",
        "error",
    )
    assert failed.summary["status"] == 500
    assert (refused.actor, refused.summary["outcome"]) == ("anonymous", "denied")


def test_refusals_are_throttled_per_source_and_user() -> None:
    now = [100.0]
    throttle = RefusalThrottle(clock=lambda: now[0])
    assert throttle.admit(("1.2.3.4", "anonymous")) == 0
    assert throttle.admit(("1.2.3.4", "anonymous")) is None
    assert throttle.admit(("1.2.3.4", "anonymous")) is None
    assert throttle.admit(("5.6.7.8", "anonymous")) == 0  # another address is not held back
    now[0] += 1.0
    assert throttle.admit(("1.2.3.4", "anonymous")) == 2  # counts what it skipped


def test_routes_that_record_themselves_are_not_recorded_twice(sqlite_client: Client) -> None:
    gov = Governance(sqlite_client)
    gov.create_admin(*ADMIN)
    gov.create_user(*BOB)
    http = TestClient(create_app(sqlite_client, auth=True))
    made = http.post("/api/v1/auth/tokens", json={"name": "laptop"}, auth=BOB)
    assert made.status_code == 200
    refused = http.post("/api/v1/auth/tokens", json={"name": "x", "user": "admin"}, auth=BOB)
    assert refused.status_code == 403
    entries = _entries(sqlite_client)
    assert [e.action for e in entries] == ["create_token", "token.create"]
    assert entries[0].summary["outcome"] == "denied"  # the refusal, by the middleware
    assert made.json()["token"] not in str([e.to_dict() for e in entries])
