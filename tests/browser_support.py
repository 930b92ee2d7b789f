"""The system Chromium for browser tests, driven by Playwright (imported by bare name).

Debian's ``chromium`` package (``make install`` installs it); a machine without
it or without Playwright skips the browser tests rather than downloading a build.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def launch_chromium() -> Iterator[Any]:
    """The body of a browser fixture: ``yield from launch_chromium()``."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make install` installs Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()
