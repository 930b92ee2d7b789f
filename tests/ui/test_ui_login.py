"""The UI behind ``loopml server --auth`` in a real browser: log in, change state, log out.

The forms carry the session's CSRF token and htmx sends it in a header, so a
logged-in user promotes a model exactly as without auth; the session cookie is
HttpOnly and SameSite=Lax; logging out ends the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from live_server import LiveServer, live_server
from ui_seed import seed_model, unique

from loopml.core.settings import Settings
from loopml.governance import Governance
from loopml.registry import Registry
from loopml.tracking import Client

USER = ("maria", "maria-long-passphrase")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("ui-auth")
    uri = f"sqlite:///{home / 'server.db'}"
    client = Client(uri, object_store_uri=str(home / "objects"))
    try:
        gov = Governance(client)
        gov.create_admin("root-admin", "root-admin-passphrase")
        gov.create_user(*USER)
        gov.add_member("default", USER[0], "maintainer")
    finally:
        client.close()
    extra_env = {"LOOPML_CAPTURE_PROVENANCE": "false"}
    with live_server(home, uri, extra_args=("--auth",), extra_env=extra_env) as running:
        yield running


@pytest.fixture
def seeding(auth_server: LiveServer) -> Iterator[Client]:
    settings = Settings(home=auth_server.home, flush_interval_seconds=0.2, capture_provenance=False)
    client = Client(
        auth_server.tracking_uri, settings=settings, object_store_uri=auth_server.object_store_uri
    )
    yield client
    client.close()


@pytest.fixture
def tab(_browser: Any, auth_server: LiveServer) -> Iterator[Any]:
    context = _browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=auth_server.url
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    yield page
    context.close()
    assert not errors, "\n".join(errors)


def test_log_in_promote_and_log_out(
    tab: Any, seeding: Client, tmp_path: Path, auth_server: LiveServer
) -> None:
    model = seed_model(seeding, tmp_path, unique("login-model"), (0.80, 0.90))
    url = f"/models/{quote(model.name, safe='')}"
    tab.goto(url)
    tab.wait_for_url(lambda u: "/login?next=/models/" in u)  # to log in, then come back
    tab.get_by_label("User name").fill(USER[0])
    tab.get_by_label("Password").fill("not-the-password")
    tab.get_by_role("button", name="Log in").click()
    assert "invalid user name or password" in tab.locator("#login-error").inner_text()
    tab.get_by_label("Password").fill(USER[1])
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url("**" + url)
    assert tab.locator("#whoami").inner_text() == USER[0]
    cookie = next(c for c in tab.context.cookies() if c["name"] == "loopml_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"

    # a plain form post (hidden CSRF field), review then confirm
    form = tab.locator("#promote form")
    form.locator("select[name=version]").select_option("2")
    form.locator("input[name=reason]").fill("logged in")
    form.get_by_role("button", name="Check gates…").click()
    tab.get_by_role("button", name="Confirm: promote v2").click()
    tab.wait_for_selector("#outcome")
    assert Registry(seeding).get_registered_model(model.name).aliases == {"champion": 2}

    # htmx requests still work (the search box swaps the list)
    tab.goto("/models")
    tab.get_by_label("Search models").fill(model.name)
    tab.get_by_label("Search models").press("Enter")
    tab.wait_for_url(lambda u: "/models?filter=" in u)
    assert tab.locator("#models tbody tr").count() == 1

    tab.get_by_role("button", name="Log out").click()
    tab.wait_for_url("**/login")
    tab.goto("/experiments")
    tab.wait_for_url(lambda u: u.endswith("/login?next=/experiments"))
