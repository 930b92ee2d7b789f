"""The ``/audit`` page: entries with filters and paging, the chain's state, admins only."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_world import fill, sql
from fastapi.testclient import TestClient

from browser_support import launch_chromium
from loopml.governance import Governance
from loopml.governance._audit import AuditLog
from loopml.server import create_app
from loopml.tracking import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from auth_support import serve

XSS_ACTOR = '<b id="pwn-actor">eve</b>'
XSS_OBJECT = '"><img id="pwn-object" src=x>'


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    client = Client(f"sqlite:///{tmp_path / 'loopml.db'}", object_store_uri=str(tmp_path / "o"))
    audit = AuditLog(client)
    fill(audit, 55)
    audit.record(
        actor=XSS_ACTOR,
        action="delete_run",
        object_type="run",
        object_id=XSS_OBJECT,
        summary={"note": "<script>alert(1)</script>"},
    )
    yield audit
    client.close()


def test_the_page_lists_filters_and_escapes(log: AuditLog) -> None:
    http = TestClient(create_app(log.client))
    page = http.get("/audit")
    assert page.status_code == 200
    assert XSS_ACTOR not in page.text and XSS_OBJECT not in page.text
    assert "&lt;b id=&#34;pwn-actor&#34;&gt;eve&lt;/b&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert 'href="/audit">Audit</a>' in page.text or 'href="/audit" class="active"' in page.text
    assert "/audit?before=7" in page.text  # 50 a page: entries 56 to 7, then older ones
    older = http.get("/audit", params={"before": 7})
    assert "churn@v6" in older.text and "churn@v7" not in older.text
    only = http.get("/audit", params={"object": "registered_model:churn@v3", "user": "alice"})
    assert "churn@v3" in only.text and "churn@v4" not in only.text
    bad = http.get("/audit", params={"since": "someday"})
    assert bad.status_code == 400 and "Invalid time &#39;someday&#39;" in bad.text
    verified = http.get("/audit/verify", headers={"HX-Request": "true"})
    assert 'data-ok="true"' in verified.text and "56 entries" in verified.text
    sql(log, "UPDATE audit_log SET summary = '{}' WHERE seq = 9")
    damaged = http.get("/audit/verify", headers={"HX-Request": "true"})
    assert 'data-ok="false"' in damaged.text and "Entry 9 was altered" in damaged.text


def test_only_admins_see_the_page(log: AuditLog) -> None:
    gov = Governance(log.client)
    gov.create_admin("admin", "admin-passphrase-1")
    gov.create_user("bob", "bob-has-a-passphrase")
    http = TestClient(create_app(log.client, auth=True))
    assert http.get("/audit", auth=("bob", "bob-has-a-passphrase")).status_code == 403
    assert http.get("/audit/verify", auth=("bob", "bob-has-a-passphrase")).status_code == 403
    assert http.get("/audit", auth=("admin", "admin-passphrase-1")).status_code == 200


@pytest.fixture
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def test_in_a_browser_the_chain_state_loads_and_markup_stays_text(
    log: AuditLog, browser: Any
) -> None:
    with serve(create_app(log.client)) as url:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/audit")
        assert "Chain intact: 56 entries" in page.locator("#audit-chain").inner_text()
        assert page.locator("#pwn-actor").count() == 0
        assert page.locator("#pwn-object").count() == 0
        assert XSS_ACTOR in page.locator("#audit-entries").inner_text()
        page.fill("input[name=user]", "alice")
        page.fill("input[name=object]", "registered_model:churn@v2")
        page.click("#audit-filters button[type=submit]")
        page.wait_for_url("**/audit?*user=alice*")
        rows = page.locator("#audit-entries tbody tr")
        rows.first.wait_for()
        assert rows.count() == 1 and "churn@v2" in rows.first.inner_text()
        assert errors == []
