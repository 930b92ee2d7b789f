"""``/api/v1/audit``: entries, verification and export for admins; everyone else refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_world import fill, sql
from fastapi.testclient import TestClient

from loopml.core.errors import PermissionDenied, Unauthenticated
from loopml.governance import Governance, Principal
from loopml.governance._audit import AuditLog, require_auditor
from loopml.server import create_app
from loopml.tracking import Client

ADMIN = ("admin", "admin-passphrase-1")
BOB = ("bob", "bob-has-a-passphrase")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Client, TestClient]]:
    """A SQLite store with an admin, a user and three audit entries, served with auth on."""
    client = Client(f"sqlite:///{tmp_path / 'loopml.db'}", object_store_uri=str(tmp_path / "o"))
    gov = Governance(client)
    gov.create_admin(*ADMIN)
    gov.create_user(*BOB)
    fill(AuditLog(client), 3)
    yield client, TestClient(create_app(client, auth=True))
    client.close()


def test_admins_list_verify_and_export(world: tuple[Client, TestClient]) -> None:
    _, http = world
    page = http.get("/api/v1/audit", params={"user": "alice", "limit": 2}, auth=ADMIN).json()
    assert [e["seq"] for e in page["entries"]] == [3, 2] and page["next_before_seq"] == 2
    rest = http.get("/api/v1/audit", params={"before_seq": 2}, auth=ADMIN).json()
    assert [e["seq"] for e in rest["entries"]] == [1] and rest["next_before_seq"] is None
    found = http.get(
        "/api/v1/audit",
        params={"object_type": "registered_model", "object_id": "churn@v2", "since": "1d"},
        auth=ADMIN,
    ).json()
    assert [e["seq"] for e in found["entries"]] == [2]
    assert http.get("/api/v1/audit/verify", auth=ADMIN).json()["ok"] is True
    export = http.get("/api/v1/audit/export", params={"user": "alice"}, auth=ADMIN)
    assert export.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["seq"] for line in export.text.splitlines()] == [1, 2, 3]


def test_a_tampered_log_is_reported(world: tuple[Client, TestClient]) -> None:
    client, http = world
    sql(AuditLog(client), "DELETE FROM audit_log WHERE seq = 2")
    result = http.get("/api/v1/audit/verify", auth=ADMIN).json()
    assert result["ok"] is False and result["checked"] == 2
    assert result["problems"] == [
        "Entry 2 is missing (between entry 1 and entry 3: they were deleted)."
    ]


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export"])
def test_non_admins_and_anonymous_callers_are_refused(
    world: tuple[Client, TestClient], path: str
) -> None:
    _, http = world
    refused = http.get(path, auth=BOB)
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "PERMISSION_DENIED"
    assert http.get(path).status_code == 401


def test_the_service_rule_itself_admits_only_admins_and_the_local_user() -> None:
    require_auditor(Principal(name="me"))  # embedded: via="local"
    require_auditor(Principal(name="root", via="token", is_admin=True))
    with pytest.raises(PermissionDenied, match="'bob' may not read the audit log"):
        require_auditor(Principal(name="bob", via="session"))
    with pytest.raises(Unauthenticated):
        require_auditor(None)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "last tuesday"}, "Invalid time 'last tuesday'"),
        ({"since": "2d", "until": "3d"}, "'since' must be before 'until'"),
        ({"object_id": "x"}, "needs its object type"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_filters_are_400s_with_a_message(
    world: tuple[Client, TestClient], params: dict[str, object], message: str
) -> None:
    _, http = world
    answer = http.get("/api/v1/audit", params=params, auth=ADMIN)
    assert answer.status_code == 400 and message in answer.json()["message"]
    if "limit" not in params:
        exported = http.get("/api/v1/audit/export", params=params, auth=ADMIN)
        assert exported.status_code == 400 and message in exported.json()["message"]


def test_the_local_user_reads_the_log_with_auth_off(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path / 'loopml.db'}", object_store_uri=str(tmp_path / "o"))
    fill(AuditLog(client), 1)
    http = TestClient(create_app(client))
    assert [e["seq"] for e in http.get("/api/v1/audit").json()["entries"]] == [1]
    client.close()
