"""``loopml users|tokens|workspaces``: the admin commands, run on the database directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from identity_world import PASSWORD, empty_governance_tables
from typer.testing import CliRunner

from loopml.cli import app
from loopml.governance import Governance
from loopml.tracking import Client

LOOPML = str(Path(sys.executable).with_name("loopml"))


@pytest.fixture
def uri(client: Client) -> str:
    empty_governance_tables(client)
    return client.tracking_uri


def _cli(uri: str, *args: str, code: int = 0, stdin: str | None = None) -> str:
    result = CliRunner().invoke(
        app, ["--tracking-uri", uri, *args], input=stdin, env={"COLUMNS": "250"}
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output and not isinstance(result.exception, AssertionError)
    assert result.exit_code == code, output
    return output


def test_users_commands(uri: str, client: Client) -> None:
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    assert "Created admin root" in _cli(uri, "users", "create-admin", "root", stdin=typed)
    out = _cli(uri, "users", "create", "bob", "--password-stdin", stdin=PASSWORD + "\n")
    assert "Created user bob" in out and PASSWORD not in out
    assert "service account ci-bot" in _cli(uri, "users", "create-service-account", "ci-bot")
    listed = json.loads(_cli(uri, "users", "list", "--json"))
    assert [(u["name"], u["kind"], u["is_admin"]) for u in listed] == [
        ("bob", "human", False),
        ("ci-bot", "service", False),
        ("root", "human", True),
    ]
    assert "ci-bot" in _cli(uri, "users", "list")
    new = "another long passphrase"
    assert "Password of user bob set" in _cli(
        uri, "users", "set-password", "bob", stdin=f"{new}\n{new}\n"
    )
    gov = Governance(client)
    assert gov.authenticate_password("bob", new).name == "bob"
    assert "Disabled user bob" in _cli(uri, "users", "disable", "bob")
    assert gov.get_user("bob").disabled


def test_users_bad_input(uri: str) -> None:
    weak = _cli(uri, "users", "create-admin", "root", "--password-stdin", stdin="short\n", code=1)
    assert "too weak" in weak and "short" not in weak.replace("too weak", "")
    assert "stdin is empty" in _cli(uri, "users", "create", "x", "--password-stdin", code=1)
    mismatch = _cli(uri, "users", "create-admin", "root", stdin=f"{PASSWORD}\nother\n", code=1)
    assert "do not match" in mismatch
    assert "Invalid service account name" in _cli(
        uri, "users", "create-service-account", "a b", code=1
    )
    assert "No user named 'ghost'" in _cli(uri, "users", "disable", "ghost", code=1)
    assert "No user named 'ghost'" in _cli(
        uri, "users", "set-password", "ghost", "--password-stdin", stdin=PASSWORD, code=1
    )
    _cli(uri, "users", "create-service-account", "bot")
    assert "exists already" in _cli(uri, "users", "create-service-account", "bot", code=1)
    assert _cli(uri, "users", "list", "--json").count('"name"') == 1


def test_tokens_commands(uri: str, client: Client) -> None:
    _cli(uri, "users", "create-service-account", "ci-bot")
    result = CliRunner().invoke(
        app, ["--tracking-uri", uri, "tokens", "create", "--user", "ci-bot", "--name", "ci"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("lmt_") and "not shown again" in result.stderr
    gov = Governance(client)
    principal = gov.authenticate_token(secret)
    assert principal.name == "ci-bot" and principal.token_id is not None
    listed = json.loads(_cli(uri, "tokens", "list", "--json", "--user", "ci-bot"))
    assert [(t["id"], t["name"]) for t in listed] == [(principal.token_id, "ci")]
    table = _cli(uri, "tokens", "list")  # ids may fold in a narrow console: --json checked them
    assert "ci-bot" in table and secret not in table and "expires" in table
    out = _cli(uri, "tokens", "create", "--user", "ci-bot", "--name", "nightly", "--no-expiry")
    assert "no expiry" in out
    assert "Revoked token" in _cli(uri, "tokens", "revoke", principal.token_id)
    assert "revoked" in _cli(uri, "tokens", "list", "--user", "ci-bot")
    assert gov.list_tokens()[0].revoked_time is not None


def test_tokens_bad_input(uri: str) -> None:
    _cli(uri, "users", "create-service-account", "bot")
    args = ("tokens", "create", "--user", "bot", "--name", "x")
    assert "not both" in _cli(uri, *args, "--expires-days", "3", "--no-expiry", code=1)
    assert "expires_in_days" in _cli(uri, *args, "--expires-days", "0", code=1)
    assert "No user named 'ghost'" in _cli(
        uri, "tokens", "create", "--user", "ghost", "--name", "x", code=1
    )
    assert "No API token" in _cli(uri, "tokens", "revoke", "0123456789abcdef", code=1)
    assert "Missing option" in _cli(uri, "tokens", "create", "--user", "bot", code=2)


def test_workspaces_commands(uri: str) -> None:
    _cli(uri, "users", "create-service-account", "bob")
    assert "Created workspace fraud" in _cli(
        uri, "workspaces", "create", "fraud", "--description", "fraud models"
    )
    listed = json.loads(_cli(uri, "workspaces", "list", "--json"))
    assert [(w["name"], w["description"]) for w in listed][1] == ("fraud", "fraud models")
    assert listed[0]["name"] == "default"
    assert "bob is now editor in fraud" in _cli(
        uri, "workspaces", "add-member", "fraud", "bob", "--role", "editor"
    )
    assert json.loads(_cli(uri, "workspaces", "members", "fraud", "--json")) == [
        {"workspace": "fraud", "user": "bob", "role": "editor"}
    ]
    assert "editor" in _cli(uri, "workspaces", "members", "fraud")
    assert "Removed bob from fraud" in _cli(uri, "workspaces", "remove-member", "fraud", "bob")
    assert json.loads(_cli(uri, "workspaces", "members", "fraud", "--json")) == []


def test_workspaces_bad_input(uri: str) -> None:
    _cli(uri, "users", "create-service-account", "bob")
    _cli(uri, "workspaces", "create", "fraud")
    assert "exists already" in _cli(uri, "workspaces", "create", "fraud", code=1)
    assert "Invalid workspace name" in _cli(uri, "workspaces", "create", "a/b", code=1)
    add = ("workspaces", "add-member", "fraud", "bob", "--role")
    assert "Unknown role 'owner'" in _cli(uri, *add, "owner", code=1)
    assert "No workspace named 'nope'" in _cli(
        uri, "workspaces", "add-member", "nope", "bob", "--role", "viewer", code=1
    )
    assert "not a member" in _cli(uri, "workspaces", "remove-member", "fraud", "bob", code=1)
    assert "No workspace named 'nope'" in _cli(uri, "workspaces", "members", "nope", code=1)


def test_a_server_url_is_refused_by_the_installed_script(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(tmp_path), LOOPML_TRACKING_URI="http://127.0.0.1:9")
    for args in (["users", "list"], ["tokens", "revoke", "x"], ["workspaces", "list"]):
        result = subprocess.run(
            [LOOPML, *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "--tracking-uri <database uri>" in result.stderr
        assert "loopml login" in result.stderr
    helped = subprocess.run([LOOPML, "--help"], capture_output=True, text=True, env=env)
    assert all(group in helped.stdout for group in ("users", "tokens", "workspaces"))


def test_admin_commands_are_audited_as_the_cli(uri: str, client: Client) -> None:
    from loopml.governance import AuditLog

    _cli(uri, "users", "create-service-account", "ci-bot")
    _cli(uri, "workspaces", "create", "churn")
    _cli(uri, "workspaces", "add-member", "churn", "ci-bot", "--role", "editor")
    _cli(uri, "workspaces", "add-member", "churn", "ci-bot", "--role", "boss", code=1)  # not
    log = AuditLog(client)
    entries = [(e.action, e.object_id, e.source) for e in reversed(log.list())]
    assert entries[-3:] == [
        ("user.create", "ci-bot", "cli"),
        ("workspace.create", "churn", "cli"),
        ("workspace.add_member", "churn", "cli"),
    ]
    assert log.verify().ok
