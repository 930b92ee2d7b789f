"""The UI's browser tests: a live ``loopml server`` and a Playwright page on system Chromium.

- ``ui_server``: one server per test session (per xdist worker) over SQLite in a temp home.
- ``ui_client``: a loopml ``Client`` over the same database and object store, to add the
  data a test looks at (the server reads the database on every request).
- ``page``: a fresh Playwright page (1280x900); uncaught JavaScript errors and console
  errors fail the test. ``shot(page, name)`` saves a screenshot into the test output.

Tests skip, with the reason, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import launch_chromium
from loopml.core.settings import Settings
from loopml.tracking import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_server import LiveServer, live_server
from runs_seed import Seeded, seed

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "ui-screenshots"


@pytest.fixture(scope="session")
def ui_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui")


@pytest.fixture(scope="session")
def ui_server(ui_home: Path) -> Iterator[LiveServer]:
    """A real ``loopml server`` subprocess on a free port."""
    with live_server(ui_home / "server", extra_env={"LOOPML_CAPTURE_PROVENANCE": "false"}) as s:
        yield s


@pytest.fixture(scope="session")
def ui_client(ui_server: LiveServer) -> Iterator[Client]:
    """Writes straight to the server's stores (same SQLite file and object store)."""
    settings = Settings(home=ui_server.home, flush_interval_seconds=0.2, capture_provenance=False)
    client = Client(
        ui_server.tracking_uri, settings=settings, object_store_uri=ui_server.object_store_uri
    )
    yield client
    client.close()


@pytest.fixture(scope="session")
def _browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def page(_browser: Any, ui_server: LiveServer) -> Iterator[Any]:
    """A new page at 1280x900 whose base URL is the live server; JS errors fail the test."""
    context = _browser.new_context(viewport={"width": 1280, "height": 900}, base_url=ui_server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))

    def console(msg: Any) -> None:
        # A sandboxed artifact refusing a report's script or image is the defence working.
        blocked = "Blocked script execution" in msg.text or "/artifact?" in msg.location.get(
            "url", ""
        )
        if msg.type == "error" and not blocked:
            errors.append(f"console: {msg.text}")

    tab.on("console", console)
    tab.js_errors = errors  # tests that expect an error can clear this list
    yield tab
    context.close()
    assert not errors, "JavaScript errors on the page:\n" + "\n".join(errors)


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, "name")``: a full-page PNG under build/ui-screenshots/."""

    def take(tab: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def seeded(ui_client: Client) -> Seeded:
    """An experiment of 60 sweep runs, a detailed run with artifacts, and an XSS probe."""
    return seed(ui_client)
