"""``loopml quickstart --exit``: the whole closed loop, run as a user runs it.

One subprocess, a fresh ``LOOPML_HOME``, no configuration. The demo starts
its own tracking and inference servers, so this test checks the outcome in
the demo's own database (not only in the summary it prints): the retrained
version is champion, the drift alert fired, the policy's run went from the
alert to a promotion with every step recorded, and the traffic sent during
the canary and the promotion got no error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopml.automation import Policies
from loopml.core.settings import Settings
from loopml.monitoring import Monitors
from loopml.registry import Registry
from loopml.tracking import Client

LOOPML = str(Path(sys.executable).with_name("loopml"))
# The demo itself allows 150 s for each of its two waits; a hung demo must still end.
TIMEOUT_SECONDS = 420


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    home = tmp_path_factory.mktemp("demo-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOPML_", "MLFLOW_"))}
    env["LOOPML_HOME"] = str(home)
    env["COLUMNS"] = "120"
    result = subprocess.run(
        [LOOPML, "quickstart", "--exit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=home,
    )
    return result, home


def _summary(home: Path) -> tuple[Path, dict[str, Any]]:
    found = sorted((home / "demo").glob("*/summary.json"))
    assert len(found) == 1, f"expected one demo folder under {home / 'demo'}: {found}"
    return found[0].parent, json.loads(found[0].read_text())


def _store(folder: Path) -> Client:
    """The demo servers' own database and objects (the servers are gone by now)."""
    home = folder / "home"
    return Client(
        f"sqlite:///{home / 'loopml.db'}",
        settings=Settings(home=home),
        object_store_uri=str(home / "objects"),
    )


def test_the_demo_runs_and_says_where_everything_is(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, home = demo
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Traceback" not in result.stderr
    folder, summary = _summary(home)
    assert folder.parent == home / "demo"  # a fresh folder under the home, nothing to configure
    assert summary["server_url"] in result.stdout
    assert "champion v2" in result.stdout
    for key in ("drift", "monitor"):
        report = Path(summary["reports"][key])
        assert report.is_file() and report.parent == folder / "reports"
        assert "<svg" in report.read_text()
    assert summary["reports"]["drift_share"] > 0.5
    # Both servers were stopped on exit.
    for url in (summary["server_url"], summary["inference_url"]):
        with pytest.raises(httpx.HTTPError):
            httpx.get(url, timeout=2)


def test_the_retrained_version_is_champion(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, home = demo
    assert result.returncode == 0, result.stderr[-4000:]
    folder, summary = _summary(home)
    client = _store(folder)
    registry = Registry(client)
    champion = registry.get_model_version_by_alias("churn", "champion")
    first = summary["first_champion"]
    assert champion.version != first
    assert summary["champion"] == champion.version
    promoted = [
        e for e in registry.alias_history("churn", "champion") if e.version == champion.version
    ]
    assert promoted and promoted[-1].action == "promote"
    # The retrained model learned from the shifted data and is better on it.
    metrics = summary["metrics"]
    assert (
        metrics[f"v{champion.version}"]["after_shift"]["roc_auc"]
        > metrics[f"v{first}"]["after_shift"]["roc_auc"]
    )
    assert summary["datasets"]["churn-train"] == "churn-train@2"


def test_the_alert_and_the_policy_events_exist(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, home = demo
    assert result.returncode == 0, result.stderr[-4000:]
    folder, _ = _summary(home)
    client = _store(folder)
    alerts = Monitors(client).events(rule="churn-drift")
    assert alerts, "the drift alert never fired"
    policies = Policies(client)
    runs = policies.runs("churn-retrain")
    assert [r.state for r in runs] == ["promoted"]
    run = runs[0]
    assert run.trigger["type"] == "alert"
    assert run.links["alert_event"] == alerts[-1].id
    assert run.links["dataset"] == "churn-train@2"
    champion = Registry(client).get_model_version_by_alias("churn", "champion")
    assert run.links["model_version"] == champion.version
    steps = [(e.step, e.status) for e in policies.events("churn-retrain")]
    for wanted in [
        ("trigger", "queued"),
        ("training", "passed"),
        ("gates", "passed"),
        ("registration", "done"),
        ("canary", "started"),
        ("promotion", "done"),
    ]:
        assert wanted in steps, steps
    assert steps[-1] == ("promotion", "done")


def test_no_request_failed_during_the_promotion(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, home = demo
    assert result.returncode == 0, result.stderr[-4000:]
    _, summary = _summary(home)
    traffic = summary["traffic"]
    phases = traffic["by_phase"]
    champion = str(summary["champion"])
    # The canary was served by both versions, then the new champion took over.
    assert phases["canary"]["sent"] > 0
    assert set(phases["canary"]["versions"]) == {str(summary["first_champion"]), champion}
    assert phases["after promotion"]["versions"].get(champion, 0) > 0
    assert traffic["failed_during_promotion"] == 0, traffic["failures"]
    assert traffic["failed"] == 0, traffic["failures"]
