"""Monitors through a live ``loopml server --scheduler``: REST, the scheduler, /metrics, the CLI.

The server's scheduler computes windows on its own; the remote SDK and the
CLI see the same results and alerts; ``/metrics`` exports the newest window.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alert_receiver import receiver
from monitor_support import MINUTE, create_deployment, log_windows, register_reference

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.monitoring import RemoteMonitors, open_monitors
from loopml.tracking import Client
from server.live_server import LiveServer, live_server

LOOPML = str(Path(sys.executable).with_name("loopml"))


@pytest.fixture(scope="module")
def monitor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"LOOPML_ALERTS_ALLOW_PRIVATE": "true", "LOOPML_SCHEDULER_INTERVAL_SECONDS": "0.5"}
    with live_server(
        tmp_path_factory.mktemp("monitor-server"), extra_args=("--scheduler",), extra_env=env
    ) as running:
        yield running


@pytest.fixture
def client(monitor_server: LiveServer, tmp_path: Path) -> Iterator[Client]:
    remote = Client(monitor_server.url, settings=Settings(home=tmp_path / "home"))
    yield remote
    remote.close()


def _cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LOOPML, "--tracking-uri", server.url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"LOOPML_HOME": str(server.home / "cli"), "PATH": "/usr/bin:/bin"},
    )


def test_the_server_schedules_monitors_and_alerts(
    monitor_server: LiveServer, client: Client, tmp_path: Path
) -> None:
    monitors = open_monitors(client)
    assert isinstance(monitors, RemoteMonitors)
    reference = register_reference(client, tmp_path, name="remote-ref")
    deployment = create_deployment(client, "remote-fraud")
    base = now_ms() // MINUTE * MINUTE - 4 * MINUTE
    log_windows(client, deployment, [0.0, 3.0, 0.0], base=base)
    with receiver() as hook:
        monitors.create(
            "remote-m", deployment, window="1m", task="classification", reference=reference
        )
        rule = monitors.add_rule(
            "remote-drift",
            "remote-m",
            "dataset_drift",
            webhooks=[hook.url],
            secret="0123456789abcdef-secret",
        )
        assert rule.destinations[0]["signed"] is True
        assert "secret" not in rule.destinations[0]
        deadline = time.monotonic() + 60
        while len(monitors.results("remote-m")) < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
        results = monitors.results("remote-m")
        assert [r.window_start for r in results[:3]] == [base + i * MINUTE for i in range(3)]
        assert [r.metrics["dataset_drift"] for r in results[:3]] == [0.0, 1.0, 0.0]
        while not hook.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(hook.received) == 1
    (event,) = monitors.events(monitor="remote-m")
    assert event.window_start == base + MINUTE and event.deliveries[0]["ok"] is True
    assert monitors.events(after_id=event.id) == []

    scrape = httpx.get(f"{monitor_server.url}/metrics", timeout=10).text
    assert (
        'loopml_monitor_value{deployment="remote-fraud",metric="rows",monitor="remote-m"}' in scrape
    )
    assert "loopml_monitor_window_end_timestamp_seconds" in scrape
    # The newest window is empty (no traffic since), so it has no column drift to show.
    assert "# TYPE loopml_monitor_column_drift gauge" in scrape

    ran = _cli(monitor_server, "monitor", "run", "--deployment", deployment)
    assert ran.returncode == 0, ran.stderr
    assert "Monitor remote-m" in ran.stdout
    listed = _cli(monitor_server, "alerts", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["rule"] == "remote-drift"
    rules = _cli(monitor_server, "alerts", "rules")
    assert "remote-drift" in rules.stdout and "0123456789abcdef" not in rules.stdout
    out = tmp_path / "report.html"
    written = _cli(monitor_server, "monitor", "report", "remote-m", "-o", str(out))
    assert written.returncode == 0, written.stderr
    assert "<svg" in out.read_text()
    remote_report = monitors.report("remote-m")
    assert remote_report.latest is not None and "x" in remote_report.latest.distributions

    page = httpx.get(f"{monitor_server.url}/api/v1/monitors/remote-m/report", timeout=10)
    assert (
        page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    )


def test_bad_requests_are_clear_errors(monitor_server: LiveServer, client: Client) -> None:
    monitors = open_monitors(client)
    create_deployment(client, "remote-bad")
    with pytest.raises(InvalidArgument, match="window"):
        monitors.create("bad", "remote-bad", window="often")
    api = f"{monitor_server.url}/api/v1"
    answer = httpx.post(
        f"{api}/monitors",
        json={"name": "x", "deployment": "remote-bad", "window": "1m", "colour": "red"},
    )
    assert answer.status_code == 400 and "colour" in answer.text
    answer = httpx.get(f"{api}/monitors/nope/results")
    assert answer.status_code == 404 and "loopml monitor list" in answer.text
    answer = httpx.get(f"{api}/alerts/events", params={"limit": 0})
    assert answer.status_code in (400, 422)
    missing = _cli(monitor_server, "monitor", "run")
    assert missing.returncode == 1 and "Give a monitor name" in missing.stderr
    bad_rule = _cli(
        monitor_server, "alerts", "add", "r", "--monitor", "nope", "--when", "accuracy < 0.5"
    )
    assert bad_rule.returncode == 1 and "No monitor" in bad_rule.stderr
