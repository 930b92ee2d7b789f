"""Monitors over a real prediction log and registered reference data, embedded (SQLite).

A run computes each complete window once, stores drift and performance per
window, fires alert rules to a real webhook receiver, and survives bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from alert_receiver import receiver
from monitor_support import BASE, MINUTE, create_deployment, log_windows, register_reference

from loopml.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.monitoring import Monitors
from loopml.tracking import Client

SECRET = "s3cret-signing-key-0123"


@pytest.fixture
def client(tmp_path: Path, settings: Settings) -> Iterator[Client]:
    tracking = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )
    yield tracking
    tracking.close()


@pytest.fixture
def monitors(client: Client) -> Monitors:
    return Monitors(client)


@pytest.fixture(autouse=True)
def _local_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPML_ALERTS_ALLOW_PRIVATE", "true")


def test_windows_drift_performance_and_a_signed_alert(
    client: Client, monitors: Monitors, tmp_path: Path
) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [0.0, 3.0, 0.0], accurate=[True, True, False])
    monitors.create("fraud-1m", deployment, window="1m", task="classification", reference=reference)
    with receiver() as hook:
        monitors.add_rule(
            "drifting", "fraud-1m", "dataset_drift", webhooks=[hook.url], secret=SECRET, cooldown=0
        )
        monitors.add_rule("inaccurate", "fraud-1m", "accuracy < 0.8")
        done = monitors.run("fraud-1m", until_ms=BASE + 3 * MINUTE)

        assert [r.window_start for r in done.results] == [BASE + i * MINUTE for i in range(3)]
        calm, shifted, wrong = done.results
        assert calm.status == "ok" and calm.reference == reference
        assert calm.metrics["rows"] == 400 and calm.metrics["labeled_rows"] == 400
        assert calm.metrics["dataset_drift"] == 0.0 and shifted.metrics["dataset_drift"] == 1.0
        assert shifted.metrics["drift.x"] == 1.0 and shifted.metrics["drift.city"] == 0.0
        assert calm.metrics["accuracy"] == 1.0 and wrong.metrics["accuracy"] < 0.8
        assert shifted.drift is not None and shifted.drift["dataset_drift"] is True

        fired = {(e.rule, e.window_start) for e in done.events}
        assert fired == {("drifting", BASE + MINUTE), ("inaccurate", BASE + 2 * MINUTE)}
        assert len(hook.received) == 1  # the accuracy rule has no destination
        sent = hook.received[0]
        assert verify_signature(
            SECRET, sent.body, sent.headers[TIMESTAMP_HEADER], sent.headers[SIGNATURE_HEADER]
        )
        event = orjson.loads(sent.body)
        assert event["rule"] == "drifting" and event["deployment"] == deployment
        assert event["window_start"] == BASE + MINUTE and "dataset_drift" in event["message"]

    stored = monitors.events(rule="drifting")
    assert len(stored) == 1 and stored[0].deliveries[0]["ok"] is True
    assert monitors.get("fraud-1m").last_window_end == BASE + 3 * MINUTE

    # A second run over the same time computes nothing and alerts nobody again.
    again = monitors.run("fraud-1m", until_ms=BASE + 3 * MINUTE)
    assert again.results == () and again.events == ()
    assert len(monitors.results("fraud-1m")) == 3
    assert len(monitors.events()) == 2


def test_consecutive_windows_and_cooldown(
    client: Client, monitors: Monitors, tmp_path: Path
) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [3.0, 3.0, 3.0, 3.0, 0.0])
    monitors.create("m", deployment, window="1m", reference=reference)
    monitors.add_rule("twice", "m", "dataset_drift for 2 windows", cooldown="2m")
    done = monitors.run("m", until_ms=BASE + 5 * MINUTE)
    # Drift in windows 0-3: the streak reaches 2 at window 1; the cooldown of two
    # minutes of window time skips window 2 and lets window 3 fire.
    assert [e.window_start for e in done.events] == [BASE + MINUTE, BASE + 3 * MINUTE]


def test_a_run_only_takes_complete_windows_and_resumes(
    client: Client, monitors: Monitors, tmp_path: Path
) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [0.0, 0.0, 0.0])
    monitors.create("m", deployment, window="1m", reference=reference)
    first = monitors.run("m", until_ms=BASE + MINUTE + 30_000)  # window 1 is not over yet
    assert [r.window_start for r in first.results] == [BASE]
    later = monitors.run("m", until_ms=BASE + 3 * MINUTE)
    assert [r.window_start for r in later.results] == [BASE + MINUTE, BASE + 2 * MINUTE]
    empty = monitors.run("m", until_ms=BASE + 4 * MINUTE)
    assert empty.results[0].status == "empty" and empty.results[0].metrics["rows"] == 0


def test_sliding_windows(client: Client, monitors: Monitors, tmp_path: Path) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [0.0, 0.0])
    monitors.create("slide", deployment, window="1m", step="30s", reference=reference)
    done = monitors.run("slide", until_ms=BASE + 2 * MINUTE)
    spans = [(r.window_start - BASE, r.window_end - BASE) for r in done.results]
    assert spans == [(-30_000, 30_000), (0, 60_000), (30_000, 90_000), (60_000, 120_000)]
    assert [r.metrics["rows"] for r in done.results] == [300, 400, 400, 400]


def test_a_dead_webhook_is_a_failed_delivery_and_the_monitor_goes_on(
    client: Client, monitors: Monitors, tmp_path: Path
) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [3.0])
    monitors.create("m", deployment, window="1m", reference=reference)
    with receiver(status=500) as hook:
        monitors.add_rule("drift", "m", "dataset_drift", webhooks=[hook.url])
        done = monitors.run("m", until_ms=BASE + MINUTE)
        assert len(hook.received) >= 2  # retried
    (event,) = done.events
    assert event.deliveries[0]["ok"] is False and event.deliveries[0]["status"] == 500
    assert monitors.events()[0].deliveries[0]["ok"] is False
    assert len(monitors.results("m")) == 1


def test_without_reference_data_windows_still_count(client: Client, monitors: Monitors) -> None:
    deployment = create_deployment(client)
    log_windows(client, deployment, [0.0])
    # No reference given and the model has no lineage: traffic and performance only.
    monitors.create("m", deployment, window="1m", task="classification")
    (result,) = monitors.run("m", until_ms=BASE + MINUTE).results
    assert result.status == "ok" and result.metrics["accuracy"] == 1.0
    assert result.drift is None and "No drift: No registered model" in result.detail


def test_reference_columns_missing_from_traffic_are_reported_per_column(
    client: Client, monitors: Monitors, tmp_path: Path
) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [0.0])
    monitors.create("m", deployment, window="1m", reference=reference, columns=["x", "y"])
    (result,) = monitors.run("m", until_ms=BASE + MINUTE).results
    assert result.drift is not None
    by_name = result.drift["columns"]
    assert by_name["y"]["status"] == "error" and by_name["x"]["status"] == "ok"


def test_bad_input_is_refused_before_anything_is_written(
    client: Client, monitors: Monitors, tmp_path: Path
) -> None:
    deployment = create_deployment(client)
    with pytest.raises(NotFound, match="loopml deployments list"):
        monitors.create("m", "nope", window="1m")
    for bad in (
        {"window": "soon"},
        {"window": "1m", "step": "2m"},
        {"window": "1m", "task": "x"},
        {"window": "100ms"},
        {"window": "1m", "drift": {"method": "nope"}},
        {"window": "1m", "step": "25s"},
    ):
        with pytest.raises(InvalidArgument):
            monitors.create("m", deployment, **bad)
    with pytest.raises(InvalidArgument, match="Invalid monitor name"):
        monitors.create("../etc", deployment)
    assert monitors.list() == []
    monitors.create("m", deployment, window="1m")
    with pytest.raises(AlreadyExists):
        monitors.create("m", deployment, window="1m")
    with pytest.raises(InvalidArgument, match="alert condition"):
        monitors.add_rule("r", "m", "accuracy <<< 3")
    with pytest.raises(NotFound, match="No monitor"):
        monitors.add_rule("r", "other", "accuracy < 0.5")
    with pytest.raises(InvalidArgument):
        monitors.add_rule("r", "m", "accuracy < 0.5", webhooks=["file:///etc/passwd"])
    with pytest.raises(InvalidArgument, match="secret"):
        monitors.add_rule("r", "m", "accuracy < 0.5", secret="x" * 20)
    assert monitors.rules() == []
    with pytest.raises(NotFound):
        monitors.run("missing")


def test_delete_keeps_the_alert_history(client: Client, monitors: Monitors, tmp_path: Path) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [3.0])
    monitors.create("m", deployment, window="1m", reference=reference)
    monitors.add_rule("drift", "m", "dataset_drift")
    monitors.run("m", until_ms=BASE + MINUTE)
    monitors.delete("m")
    assert monitors.rules() == [] and len(monitors.events()) == 1
    with pytest.raises(NotFound):
        monitors.results("m")


def test_report_over_time(client: Client, monitors: Monitors, tmp_path: Path) -> None:
    reference = register_reference(client, tmp_path)
    deployment = create_deployment(client)
    log_windows(client, deployment, [0.0, 3.0])
    monitors.create("m", deployment, window="1m", task="classification", reference=reference)
    monitors.run("m", until_ms=BASE + 2 * MINUTE)
    report = monitors.report("m")
    html = report.save_html(tmp_path / "report.html").read_text()
    assert "<svg" in html and "drift_share" in html and "accuracy" in html
    assert len(report.to_dict()["windows"]) == 2
    # The newest tested window's distributions against the reference, per column.
    assert report.latest is not None and set(report.latest.distributions) == {"x", "city"}
    assert report.latest.result.dataset_drift is True
