"""Gate verdicts in the alias history: kept with the promotion they allowed, on every store.

``test_model_registry`` checks the verdicts through the service (embedded and
remote); here the same on SQLite and PostgreSQL, the message cap, the refusals
of bad verdicts, and the rows written before ``alias_events.details`` existed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import model_run, unique
from sqlalchemy import text

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.registry import GateContext, GateResult, MetricGate, Registry
from loopml.store import Database, current_revision, upgrade
from loopml.store._migrate import _alembic_config
from loopml.store._sql_registry_aliases import MAX_GATE_MESSAGE
from loopml.tracking import Client


@pytest.fixture
def any_client(store_uri: str, tmp_path: Path, settings: Settings) -> Iterator[Client]:
    """A tracking client on SQLite, then on PostgreSQL."""
    tracking = Client(store_uri, settings=settings, object_store_uri=str(tmp_path / "objects"))
    yield tracking
    tracking.close()


def wordy(context: GateContext) -> GateResult:
    return GateResult("wordy", True, "x" * (MAX_GATE_MESSAGE * 4))


def test_each_gate_verdict_is_kept_with_its_promotion(any_client: Client, tmp_path: Path) -> None:
    registry = Registry(any_client, user="alice")
    name = unique()
    for accuracy in (0.8, 0.9, 0.7):
        registry.create_model_version(
            name, f"runs:/{model_run(any_client, tmp_path, {'accuracy': accuracy})}/model"
        )
    first = registry.promote(name, 1, gates=[MetricGate("accuracy"), wordy, lambda c: True])
    assert first.promoted
    refused = registry.promote(name, 3, gates=[MetricGate("accuracy")])  # 0.7 < 0.8
    assert not refused.promoted
    registry.promote(name, 2, reason="no gates named")
    registry.rollback(name, "champion", reason="v2 misbehaves", user="bob")

    history = registry.alias_history(name, "champion")
    assert [(e.version, e.action) for e in history] == [
        (1, "promote"),
        (2, "promote"),
        (1, "rollback"),
    ]  # the refused promotion of v3 left no trace
    gates = history[0].gates
    assert [(g.gate, g.passed) for g in gates] == [
        ("metric:accuracy", True),
        ("wordy", True),
        ("<lambda>", True),
    ]
    assert gates[0].message == first.gate_results[0].message
    assert len(gates[1].message) == MAX_GATE_MESSAGE and gates[1].message.endswith("\u2026")
    assert gates[2].message == "passed"
    assert history[1].gates == () and history[2].gates == ()
    assert history[2].user == "bob" and history[2].reason == "v2 misbehaves"


def test_bad_verdicts_are_refused_and_record_nothing(
    client: Client, registry: Registry, tmp_path: Path
) -> None:
    name = unique()
    registry.create_model_version(name, f"runs:/{model_run(client, tmp_path)}/model")
    ok = GateResult("signature", True, "fine")
    bad = [
        ("set", [ok], "recorded with a promotion"),
        ("rollback", [ok], "recorded with a promotion"),
        ("promote", [GateResult("metric:auc", False, "worse")], "every gate passed"),
        ("promote", [{"gate": "x", "passed": True, "message": ""}], "list of GateResult"),
        ("promote", "signature", "list of GateResult"),
        ("promote", [ok] * 101, "at most 100"),
    ]
    for action, gates, words in bad:
        with pytest.raises(InvalidArgument, match=words):
            registry.move_alias(name, "champion", 1, action=action, gates=gates)  # type: ignore[arg-type]
    assert registry.alias_history(name) == []
    event = registry.move_alias(name, "champion", 1, action="promote", gates=[ok])
    assert event.gates == (ok,) and registry.alias_history(name) == [event]


def test_rows_without_details_read_as_ungated(any_client: Client, tmp_path: Path) -> None:
    """A row written without ``details`` (before the column, or by hand) has no verdicts."""
    registry = Registry(any_client, user="alice")
    name = unique()
    registry.create_model_version(name, f"runs:/{model_run(any_client, tmp_path)}/model")
    with any_client.store.db.write() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text(
                "INSERT INTO alias_events (name, alias, version, previous_version, time, "
                "user_id, reason, action) VALUES (:n, 'champion', 1, NULL, 1, 'old', '', 'promote')"
            ),
            {"n": name},
        )
    [event] = registry.alias_history(name)
    assert (event.user, event.action, event.gates) == ("old", "promote", ())


def test_downgrade_drops_the_column_and_upgrade_restores_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'loopml.db'}")
    try:
        upgrade(db)
        from alembic import command

        with db.write() as conn:
            command.downgrade(_alembic_config(conn), "0009")
            assert current_revision(conn) == "0009"
            columns = {c[1] for c in conn.execute(text("PRAGMA table_info(alias_events)"))}
            assert "details" not in columns
        upgrade(db)
        with db.read() as conn:
            columns = {c[1] for c in conn.execute(text("PRAGMA table_info(alias_events)"))}
        assert "details" in columns
    finally:
        db.dispose()
