"""The canary against a real ``loopml serve --deployment`` with real HTTP traffic.

A challenger that fails on the live inputs is rolled back on its error rate
(the champion keeps serving); a good one is promoted to champion and the
server's hot reload swaps it in while traffic flows, with no failed request.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from policy_world import World

from churn_models import FEATURES, churn
from loopml.automation import PolicyRun
from serving.serving_support import free_port, live_serve


class Traffic:
    """Sends one-row requests in a thread; counts answers by status (and failures)."""

    def __init__(self, url: str) -> None:
        self.url = f"{url}/invocations"
        self.rows = churn(200, seed=9)[FEATURES].to_numpy().tolist()
        self.statuses: Counter[int] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)

    def _send(self) -> None:
        with httpx.Client(timeout=10) as http:
            i = 0
            while not self._stop.is_set():
                body = {"dataframe_split": {"columns": FEATURES, "data": [self.rows[i % 200]]}}
                try:
                    self.statuses[http.post(self.url, json=body).status_code] += 1
                except httpx.HTTPError:
                    self.statuses[0] += 1  # no answer at all counts as a failure
                i += 1
                time.sleep(0.005)

    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    @contextmanager
    def running(self) -> Iterator[Traffic]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def _settled(url: str, timeout: float = 60.0) -> None:
    """Wait until the server stopped routing to a rolled-back canary (its reload ran)."""
    body = {"dataframe_split": {"columns": FEATURES, "data": [[10, 70.0, 1, "basic"]]}}
    deadline = time.monotonic() + timeout
    good = 0
    while good < 50:
        assert time.monotonic() < deadline, "the rolled-back canary still answers"
        good = good + 1 if httpx.post(f"{url}/invocations", json=body).status_code == 200 else 0


def _until_done(world: World, run: PolicyRun, timeout: float = 120.0) -> PolicyRun:
    deadline = time.monotonic() + timeout
    while not run.done:
        assert time.monotonic() < deadline, world.policies.events(run_id=run.id)
        time.sleep(0.5)
        world.policies.tick()
        run = world.policies.get_run(run.id)
    return run


def test_a_failing_challenger_is_rolled_back_and_a_good_one_promoted(world: World) -> None:
    with live_serve(world.root, ["--deployment", "churn"], free_port()) as server:
        # 1. A challenger that needs a column the live traffic does not carry.
        world.policies.create(
            world.policy(params={"extra": True}, gates=["regression:roc_auc:0.0"])
        )
        with Traffic(server.url).running() as traffic:
            bad = _until_done(world, world.policies.trigger("retrain", reason="try extra"))
        assert bad.state == "rolled_back", bad.reason
        assert "error rate" in bad.reason
        assert bad.details["canary"]["errors"] > 0
        assert traffic.failures() > 0  # the canary's share failed; the champion's did not
        assert traffic.statuses[200] > 0
        assert world.registry.get_model_version_by_alias("churn", "champion").version == 1
        assert "challenger" not in world.registry.get_registered_model("churn").aliases
        assert world.deployments.get("churn").canary_uri is None
        steps = [(e.step, e.status) for e in world.policies.events(run_id=bad.id)]
        assert steps[-1] == ("rollback", "done")

        # 2. A good challenger: canary passes, promoted while traffic flows.
        _settled(server.url)
        world.policies.update(world.policy())
        with Traffic(server.url).running() as traffic:
            good = _until_done(world, world.policies.trigger("retrain", reason="retrain"))
            time.sleep(3)  # the server reloads the new champion under traffic
        assert good.state == "promoted", good.reason
        assert traffic.failures() == 0, traffic.statuses
        assert good.details["canary"]["requests"] >= 20
        version = good.links["model_version"]
        assert version == 3
        assert world.registry.get_model_version_by_alias("churn", "champion").version == 3
        deployment = world.deployments.get("churn")
        assert (deployment.model_uri, deployment.canary_uri) == ("models:/churn@champion", None)
        promotion = world.registry.alias_history("churn", "champion")[-1]
        assert f"run {good.id}" in promotion.reason
        events = world.policies.events(run_id=good.id)
        assert events[-1].step == "promotion" and events[-1].links["model_version"] == 3
        assert events[-1].links["evaluation_run"] and events[-1].links["pipeline_run"]
