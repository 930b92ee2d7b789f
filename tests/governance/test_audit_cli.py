"""``loopml audit verify|list|export`` on a database, and against a server over its API."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_world import fill, sql
from typer.testing import CliRunner

from loopml.cli import app
from loopml.governance import Governance
from loopml.governance._audit import AuditLog
from loopml.server import create_app
from loopml.tracking import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from auth_support import serve

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, AuditLog]]:
    uri = f"sqlite:///{tmp_path / 'loopml.db'}"
    client = Client(uri, object_store_uri=str(tmp_path / "o"))
    log = AuditLog(client)
    fill(log, 3, actor="alice")
    log.record(actor="[bold]eve[/]", action="delete_run", object_type="run", object_id="r9")
    yield uri, log
    client.close()


def _run(uri: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--tracking-uri", uri, "audit", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_verify_intact_then_tampered(db: tuple[str, AuditLog]) -> None:
    uri, log = db
    code, out, _ = _run(uri, "verify")
    assert code == 0 and "4 entries, chain intact" in out
    sql(log, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    code, _, err = _run(uri, "verify")
    assert code == 1
    assert "tampered" in err and "Entry 2 was altered" in " ".join(err.split())
    code, out, _ = _run(uri, "verify", "--json")
    assert code == 1 and json.loads(out)["problems"][0].startswith("Entry 2 was altered")


def test_list_filters_and_renders_markup_as_text(db: tuple[str, AuditLog]) -> None:
    uri, _ = db
    code, out, _ = _run(uri, "list", "--json", "--user", "alice", "--since", "1h", "--limit", "2")
    assert code == 0 and [e["seq"] for e in json.loads(out)] == [3, 2]
    code, out, _ = _run(uri, "list", "--json", "--object", "registered_model:churn@v1")
    assert [e["seq"] for e in json.loads(out)] == [1]
    code, out, _ = _run(uri, "list", "--json", "--object", "run")
    assert [e["seq"] for e in json.loads(out)] == [4]
    code, out, _ = _run(uri, "list")
    assert code == 0 and "[bold]" in out  # shown as typed, not taken as Rich markup
    code, out, _ = _run(uri, "list", "--until", "2000-01-01")
    assert code == 0 and "No audit entry matches" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--since", "yesterday"], "Invalid time 'yesterday'"),
        (["list", "--object", ":x"], "give TYPE or TYPE:ID"),
        (["list", "--since", "1d", "--until", "2d"], "'since' must be before 'until'"),
        (["export", "--since", "soon"], "Invalid time 'soon'"),
    ],
)
def test_bad_filters_fail_with_a_message(
    db: tuple[str, AuditLog], args: list[str], message: str
) -> None:
    code, _, err = _run(db[0], *args)
    assert code == 1 and message in " ".join(err.split())


def test_a_bad_limit_is_refused(db: tuple[str, AuditLog]) -> None:
    code, _, err = _run(db[0], "list", "--limit", "0")
    assert code == 2 and "--limit" in err


def test_export_writes_json_lines_atomically(db: tuple[str, AuditLog], tmp_path: Path) -> None:
    uri, _ = db
    target = tmp_path / "audit.jsonl"
    code, _, err = _run(uri, "export", "--output", str(target), "--user", "alice")
    assert code == 0 and "Exported 3 entries" in err
    assert [json.loads(line)["seq"] for line in target.read_text().splitlines()] == [1, 2, 3]
    code, out, _ = _run(uri, "export")
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [1, 2, 3, 4]
    code, _, err = _run(uri, "export", "--output", str(tmp_path / "no" / "such" / "x.jsonl"))
    assert code == 1 and "Cannot write" in err
    code, _, _ = _run(uri, "export", "--output", str(target), "--since", "bad")
    assert code == 1 and len(target.read_text().splitlines()) == 3  # the old file stays whole


def test_against_a_server_admins_read_and_others_are_refused(
    db: tuple[str, AuditLog], tmp_path: Path
) -> None:
    _, log = db
    gov = Governance(log.client)
    gov.create_admin("admin", "admin-passphrase-1")
    gov.create_user("bob", "bob-has-a-passphrase")
    admin = {"LOOPML_TRACKING_TOKEN": gov.create_token("admin", "cli").secret}
    bob = {"LOOPML_TRACKING_TOKEN": gov.create_token("bob", "cli").secret}
    with serve(create_app(log.client, auth=True)) as url:
        code, out, _ = _run(url, "verify", env=admin)
        assert code == 0 and "chain intact" in out
        code, out, _ = _run(url, "list", "--json", "--user", "alice", env=admin)
        assert code == 0 and [e["seq"] for e in json.loads(out)] == [3, 2, 1]
        target = tmp_path / "remote.jsonl"
        code, _, _ = _run(url, "export", "-o", str(target), "--object", "run:r9", env=admin)
        assert code == 0 and json.loads(target.read_text())["actor"] == "[bold]eve[/]"
        # Stores are shared per URI within a process: bob's goes by another spelling of it.
        code, _, err = _run(url + "/", "list", env=bob)
        assert code == 1 and "admin" in err
        code, _, err = _run(url, "list", "--since", "never", env=admin)
        assert code == 1 and "Invalid time 'never'" in " ".join(err.split())
        sql(log, "DELETE FROM audit_log WHERE seq = 1")
        code, _, err = _run(url, "verify", env=admin)
        assert code == 1 and "start of the log was deleted" in " ".join(err.split())
