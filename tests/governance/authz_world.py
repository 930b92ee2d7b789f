"""A server with auth on, two workspaces, one user per role, and objects in each workspace.

Workspace A holds experiment ``exp-a`` (run ``run_a`` with a metric and an
artifact ``model/model.txt``) and registered model ``model-a``, whose version 1
comes from ``run_a`` and version 2 from ``run_b`` (in B). Workspace B holds
``exp-b`` and ``run_b``. Users ``none``, ``viewer``, ``editor``,
``maintainer`` and ``wsadmin`` hold that role in A (none: no role) and no role
in B; ``root`` is a global admin. Each has an API token; requests go through
the real app over HTTP (Starlette's TestClient), on SQLite or on a fresh
PostgreSQL database of its own (``STORES``: module-scoped worlds cannot share
the per-test database that ``tests/conftest.py`` truncates).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from loopml.core.settings import Settings
from loopml.governance import Governance
from loopml.server._app import create_app
from loopml.tracking import Client
from postgres_support import fresh_postgres_database

PASSWORD = "correct horse battery staple"
ROLES = ("none", "viewer", "editor", "maintainer", "wsadmin")
ROLE_IN_A = {"viewer": "viewer", "editor": "editor", "maintainer": "maintainer", "wsadmin": "admin"}
USERS = (*ROLES, "root")
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class World:
    http: TestClient
    governance: Governance
    tokens: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, user: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", **kwargs.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kwargs)

    def ok(self, user: str, method: str, url: str, **kwargs: Any) -> Any:
        answer = self.call(user, method, url, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json()


def _seed(world: World) -> None:
    for name, workspace in (("exp-a", "A"), ("exp-b", "B")):
        made = world.ok(
            "root",
            "POST",
            "/api/v1/experiments",
            json={"name": name},
            headers={"X-Loopml-Workspace": workspace},
        )
        world.ids[name] = made["experiment_id"]
    for run, experiment in (("run_a", "exp-a"), ("run_b", "exp-b")):
        made = world.ok(
            "root", "POST", "/api/v1/runs", json={"experiment_id": world.ids[experiment]}
        )
        run_id = made["run"]["info"]["run_id"]
        world.ids[run] = run_id
        world.ok(
            "root",
            "POST",
            f"/api/v1/runs/{run_id}/batch",
            json={"metrics": [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0}]},
        )
        world.ok(
            "root", "PUT", f"/api/v1/runs/{run_id}/artifacts/model/model.txt", content=b"weights"
        )
    world.ok(
        "root",
        "POST",
        "/api/v1/registry/models",
        json={"name": "model-a"},
        headers={"X-Loopml-Workspace": "A"},
    )
    for run in ("run_a", "run_b"):
        world.ok(
            "root",
            "POST",
            "/api/v1/registry/models/model-a/versions",
            json={"source": f"runs:/{world.ids[run]}/model"},
        )


@contextmanager
def _database(store: str, home: Path) -> Iterator[str]:
    """A fresh metadata database: SQLite under ``home``, or a new PostgreSQL database."""
    if store == "sqlite":
        yield f"sqlite:///{home / 'loopml.db'}"
        return
    with fresh_postgres_database("loopml_authz") as uri:
        yield uri


@contextmanager
def authz_world(home: Path, store: str = "sqlite") -> Iterator[World]:
    """The world above, on a fresh ``store`` ("sqlite" or "postgres") database."""
    with _database(store, home) as uri, _world(home, uri) as world:
        yield world


@contextmanager
def _world(home: Path, uri: str) -> Iterator[World]:
    settings = Settings(home=home / "home", flush_interval_seconds=0.2)
    client = Client(uri, settings=settings, object_store_uri=str(home / "objects"))
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    governance = Governance(client, hasher=hasher)
    governance.create_admin("root", PASSWORD)
    for workspace in ("A", "B"):
        governance.create_workspace(workspace)
    tokens = {"root": governance.create_token("root", "tests").secret}
    for user in ROLES:
        governance.create_user(user, PASSWORD)
        if user in ROLE_IN_A:
            governance.add_member("A", user, ROLE_IN_A[user])
        tokens[user] = governance.create_token(user, "tests").secret
    app = create_app(client, auth=True)
    try:
        with TestClient(app) as http:
            world = World(http, governance, tokens)
            _seed(world)
            yield world
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(world: World) -> Iterator[str]:
    """The world's app served by uvicorn on a free port (for the real MLflow client)."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(world.http.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
