"""Helpers of the authentication tests (imported by bare name): a world of users and a server.

``auth_world`` builds a SQLite store with an admin and a user, and serves
``create_app(client, auth=True, ...)`` with uvicorn on a free loopback port in
a thread of the test process, so tests can reach the same store directly.
"""

from __future__ import annotations

import base64
import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from live_server import free_port

from loopml.core.settings import Settings
from loopml.governance import Governance
from loopml.server import create_app
from loopml.tracking import Client

ADMIN = ("admin", "admin-passphrase-1")
BOB = ("bob", "bob-has-a-passphrase")


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` on uvicorn at ``http://127.0.0.1:<free port>`` until the block ends."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class AuthWorld:
    """A served app with auth on, its store's client and governance, and its users."""

    client: Client
    gov: Governance
    app: FastAPI
    url: str

    def http(self, **kwargs: Any) -> httpx.Client:
        """A new HTTP client of the server (its own cookie jar); no redirects followed."""
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False, **kwargs)

    def login(self, user: str, password: str) -> tuple[httpx.Client, str]:
        """A browser-like client logged in to the UI, and its session's CSRF token."""
        http = self.http()
        answer = http.post("/login", data={"username": user, "password": password})
        assert answer.status_code == 303, answer.text
        page = http.get("/experiments")
        assert page.status_code == 200, page.text
        found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
        assert found, "the page carries no CSRF token"
        return http, found.group(1)


def make_client(tmp_path: Path) -> Client:
    settings = Settings(home=tmp_path / "home", flush_interval_seconds=0.2)
    return Client(
        f"sqlite:///{tmp_path / 'auth.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )


@contextlib.contextmanager
def auth_world(tmp_path: Path, **app_options: Any) -> Iterator[AuthWorld]:
    """An admin and a user (bob, editor in "default") in a fresh store, served with auth on."""
    client = make_client(tmp_path)
    gov = Governance(client)
    gov.create_admin(*ADMIN)
    gov.create_user(*BOB)
    gov.add_member("default", "bob", "editor")  # roles are checked too (not by these tests)
    app = create_app(client, auth=True, **app_options)
    try:
        with serve(app) as url:
            yield AuthWorld(client, gov, app, url)
    finally:
        client.close()
