"""The closed loop, end to end: what ``make demo`` and ``loopml quickstart`` run.

::

    demo = Demo(DemoOptions(folder=Path("loopml-demo")), timeline)
    try:
        summary = demo.run()        # every step, until the retrained model is champion
    finally:
        demo.close()                # stops the traffic and both servers

Everything happens the way a user would do it, over the tracking server's
API: the demo starts ``loopml server --scheduler`` (which runs the monitor
and the policy) and ``loopml serve --deployment churn`` in a fresh home
under the demo folder, versions the data, tunes, trains and registers the
first champion, deploys it, creates the monitor, its drift alert and the
retraining policy, sends traffic, then shifts the data. From there on the
demo only watches: the server's scheduler detects the drift, fires the
alert and runs the policy, which retrains, gates, canaries and promotes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidState, LoopmlError
from loopml.core.settings import Settings
from loopml.datasets import Datasets
from loopml.demo import _automation
from loopml.demo._data import CATEGORICAL, NUMERIC, churn_frame, write_parquet
from loopml.demo._processes import ChildServer, child_environment, free_port, start_child
from loopml.demo._steps import (
    DRIFT_RULE,
    MODEL,
    MONITOR,
    deploy,
    train_champion,
    tune_settings,
    watch_monitor,
)
from loopml.demo._summary import summarize
from loopml.demo._timeline import Timeline
from loopml.demo._traffic import TrafficSender
from loopml.deployments import Deployments
from loopml.monitoring import open_monitors
from loopml.store import AlertEvent
from loopml.tracking import Client

log = logging.getLogger("loopml.demo")

STEPS = (
    ("server", "Start the tracking server"),
    ("data", "Generate and version the churn data"),
    ("tune", "Tune hyperparameters"),
    ("train", "Train, register, make champion"),
    ("deploy", "Deploy, start the inference server"),
    ("monitor", "Monitor and drift alert rule"),
    ("policy", "Retraining policy"),
    ("traffic", "Live traffic on the champion"),
    ("shift", "The market shifts"),
    ("alert", "Drift detected, alert fires"),
    ("retrain", "Policy retrains on the new data"),
    ("gates", "Challenger evaluated and gated"),
    ("canary", "Canary on live traffic"),
    ("promote", "Challenger promoted to champion"),
    ("report", "Drift report and summary"),
)


# Windows hold a few hundred rows while the training data has thousands: Evidently's
# defaults for a large reference (Wasserstein and Jensen-Shannon distances above 0.1) flag
# sampling noise at that size, so the monitor uses the tests with p-values instead.
DRIFT_TESTS = {
    **{column: "ks" for column in NUMERIC if column != "support_tickets"},
    "support_tickets": "chisquare",
    **{column: "chisquare" for column in CATEGORICAL},
}
# Three processes share two cores: OpenMP and BLAS thread pools would only spin.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class DemoOptions:
    """How big and how fast the demo runs; the defaults close the loop in about 70 s.

    ``folder`` holds everything: the servers' home (database, objects), the
    data files, the logs of both servers, the reports and ``summary.json``.
    """

    folder: Path
    trials: int = 6
    train_rows: int = 3000
    holdout_rows: int = 1000
    rate: float = 25.0  # requests per second
    window: str = "10s"
    scheduler_interval: float = 2.0
    baseline_seconds: float = 12.0
    canary_weight: float = 0.3
    canary_requests: int = 60
    timeout: float = 150.0  # for the alert and the policy run, from the shift on
    settle_seconds: float = 3.0  # traffic after the promotion, to see the new version serve


@dataclass
class DemoState:
    """What the demo made along the way (names, versions, URLs), for the summary."""

    server: ChildServer | None = None
    inference: ChildServer | None = None
    client: Client | None = None
    traffic: TrafficSender | None = None
    params: dict[str, Any] = field(default_factory=dict)
    champion_version: int | None = None
    shift_ms: int | None = None
    alert: AlertEvent | None = None
    outcome: _automation.Outcome | None = None
    frames: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class Demo:
    """One run of the demo in ``options.folder``; ``close()`` always stops what it started."""

    def __init__(self, options: DemoOptions, timeline: Timeline | None = None) -> None:
        self.options = options
        self.timeline = timeline if timeline is not None else Timeline.of(STEPS)
        self.state = DemoState()
        self.folder = options.folder.expanduser().resolve()
        self._began = time.monotonic()
        self._summary: dict[str, Any] = {}

    @property
    def server_url(self) -> str | None:
        return self.state.server.url if self.state.server else None

    def run(self) -> dict[str, Any]:
        """Every step in order; the summary (also written to ``summary.json``).

        InvalidState, naming the step and where the servers' logs are, when a
        step does not finish (a server that does not start, no alert in time...);
        also when the policy run ends without a promotion (after the summary).
        """
        self._began = time.monotonic()
        self._step("server", self._start_server)
        self._step("data", self._version_data)
        self._step("tune", self._tune)
        self._step("train", self._train)
        self._step("deploy", self._deploy)
        self._step("monitor", self._monitor)
        self._step("policy", self._policy)
        self._step("traffic", self._baseline_traffic)
        self._step("shift", self._shift)
        self._step("alert", self._wait_for_alert)
        self._follow_policy()
        self._step("report", self._summarize)
        outcome = self.state.outcome
        if outcome is None or not outcome.promoted:  # the summary says what happened
            raise InvalidState(
                f"The policy run ended {outcome.status if outcome else 'nowhere'}: "
                f"{outcome.reason if outcome else ''} (see {self.folder / 'summary.json'})."
            )
        return self._summary

    def close(self) -> None:
        """Stop the traffic, then the inference server, then the tracking server."""
        if self.state.traffic is not None:
            self.state.traffic.stop()
        if self.state.client is not None:
            self.state.client.close()
        for child in (self.state.inference, self.state.server):
            if child is not None:
                child.stop()

    # -- steps ------------------------------------------------------------------------------
    def _step(self, key: str, body: Callable[[], str]) -> None:
        self.timeline.start(key)
        started = time.monotonic()
        try:
            detail = body()
        except LoopmlError as exc:
            self.timeline.fail(key, exc.message.splitlines()[0])
            title = self.timeline.step(key).title
            raise InvalidState(
                f"{title}: {exc.message}\nThe servers' logs are in {self.folder / 'logs'}."
            ) from exc
        except BaseException as exc:  # Ctrl-C, or a bug: shown on the step, then raised
            shown = "interrupted" if isinstance(exc, KeyboardInterrupt) else repr(exc)
            self.timeline.fail(key, shown.splitlines()[0])
            raise
        self.state.timings[key] = round(time.monotonic() - started, 1)
        self.timeline.done(key, detail)

    def _start_server(self) -> str:
        home = self.folder / "home"
        env = child_environment(
            home,
            {
                "LOOPML_SCHEDULER_INTERVAL_SECONDS": str(self.options.scheduler_interval),
                **ONE_THREAD,
            },
        )
        port = free_port()
        self.state.server = start_child(
            "tracking server",
            ["server", "--scheduler", "--port", str(port)],
            env=env,
            port=port,
            ready_path="/readyz",
            log=self.folder / "logs" / "server.log",
        )
        settings = Settings(home=self.folder / "client", flush_interval_seconds=0.5)
        self.state.client = Client(self.state.server.url, settings=settings)
        every = f"{self.options.scheduler_interval:g} s"
        return f"{self.state.server.url} (monitors and policies run every {every})"

    def _version_data(self) -> str:
        options = self.options
        frames = {
            "train": churn_frame(options.train_rows, regime="baseline", seed=1),
            "holdout": churn_frame(options.holdout_rows, regime="baseline", seed=2),
            "live": churn_frame(2000, regime="baseline", seed=5),
        }
        self.state.frames.update(frames)
        names = self._register_pair(frames["train"], frames["holdout"])
        rate = frames["train"]["churned"].mean()
        return f"{', '.join(names)} ({len(frames['train'])} rows, churn rate {rate:.0%})"

    def _register_pair(self, train: Any, holdout: Any) -> list[str]:
        datasets = Datasets(self._client)
        names = []
        for name, frame in (("churn-train", train), ("churn-holdout", holdout)):
            path = write_parquet(frame, self.folder / "data" / f"{name}.parquet")
            version = datasets.register(name, path, description="loopml demo: telecom churn")
            self.state.datasets[name] = f"{name}@{version.version}"
            names.append(f"{name}@{version.version}")
        return names

    def _tune(self) -> str:
        self.state.params, best, trials = tune_settings(
            self._client, self.state.frames["train"], self.options.trials
        )
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.state.params.items())
        return f"{trials} trials; best cross-validated ROC AUC {best:.3f} ({shown})"

    def _train(self) -> str:
        version, auc = train_champion(
            self._client,
            self.state.frames["train"],
            self.state.frames["holdout"],
            self.state.params,
            dataset=self.state.datasets["churn-train"],
        )
        self.state.champion_version = version
        return f"{MODEL} v{version} is champion (holdout ROC AUC {auc:.3f})"

    def _deploy(self) -> str:
        assert self.state.server is not None
        self.state.inference = deploy(
            self._client,
            self.state.server,
            folder=self.folder,
            home=self.folder / "home",
            threads=ONE_THREAD,
        )
        served = self.state.inference.url
        return f"deployment {MODEL!r} -> models:/{MODEL}@champion, served at {served}"

    def _monitor(self) -> str:
        monitors = open_monitors(self._client)
        monitors.create(
            MONITOR,
            MODEL,
            window=self.options.window,
            task="classification",
            target="churned",
            drift={"per_column": DRIFT_TESTS},
        )
        monitors.add_rule(DRIFT_RULE, MONITOR, "dataset_drift", cooldown="10m")
        return f"{MONITOR}: {self.options.window} windows; alert {DRIFT_RULE!r} on dataset_drift"

    def _policy(self) -> str:
        return _automation.create_policy(self._client, self.state.params, self.options)

    def _baseline_traffic(self) -> str:
        assert self.state.inference is not None
        deployments = Deployments(self._client)
        traffic = TrafficSender(
            self.state.inference.url,
            self.state.frames["live"],
            rate=self.options.rate,
            log_labels=lambda labels: deployments.log_labels(MODEL, labels),
        )
        self.state.traffic = traffic
        traffic.start()
        deadline = time.monotonic() + self.options.baseline_seconds
        while time.monotonic() < deadline:
            self._show_traffic()
            time.sleep(0.5)
        self._show_traffic()
        sent = traffic.snapshot()
        return f"{sent['sent']} requests at {self.options.rate:g}/s, {sent['failed']} failed"

    def _shift(self) -> str:
        traffic = self.state.traffic
        assert traffic is not None
        drifted_train = churn_frame(self.options.train_rows, regime="drifted", seed=3)
        drifted_holdout = churn_frame(self.options.holdout_rows, regime="drifted", seed=4)
        drifted_live = churn_frame(2000, regime="drifted", seed=6)
        self.state.frames.update(
            drifted_train=drifted_train, drifted_holdout=drifted_holdout, drifted_live=drifted_live
        )
        self.state.shift_ms = int(time.time() * 1000)
        traffic.switch("drifted", drifted_live)
        names = self._register_pair(drifted_train, drifted_holdout)
        return f"new data {', '.join(names)} (prices up, new 'wallet' payment); traffic now drifted"

    def _wait_for_alert(self) -> str:
        assert self.state.shift_ms is not None
        event = watch_monitor(
            self._client,
            self.timeline,
            after_ms=self.state.shift_ms,
            deadline=time.monotonic() + self.options.timeout,
            tick=self._show_traffic,
        )
        self.state.alert = event
        return event.message

    def _follow_policy(self) -> None:
        traffic = self.state.traffic
        self.state.outcome = _automation.follow(
            self._client,
            self.timeline,
            deadline=time.monotonic() + self.options.timeout,
            tick=self._show_traffic,
            on_canary=lambda: traffic.switch("canary") if traffic is not None else None,
        )
        if self.state.outcome.promoted and traffic is not None:
            # The inference server picks the new champion up on its next reload.
            traffic.switch("after promotion")
            deadline = time.monotonic() + self.options.settle_seconds
            while time.monotonic() < deadline:
                self._show_traffic()
                time.sleep(0.5)
        if traffic is not None:
            traffic.stop()
            self._show_traffic()

    def _summarize(self) -> str:
        self.state.timings["total_seconds"] = round(time.monotonic() - self._began, 1)
        self._summary = summarize(self._client, self.folder, self.state, self.options)
        return f"{self.folder / 'summary.json'}"

    # -- helpers ------------------------------------------------------------------------------
    @property
    def _client(self) -> Client:
        if self.state.client is None:
            raise InvalidState("The demo's tracking server is not running.")
        return self.state.client

    def _show_traffic(self) -> None:
        traffic = self.state.traffic
        if traffic is None:
            return
        seen = traffic.snapshot()
        versions: dict[str, int] = {}
        for phase in seen["by_phase"].values():
            for version, count in phase["versions"].items():
                versions[version] = versions.get(version, 0) + count
        by_version = ", ".join(f"v{v}: {n}" for v, n in sorted(versions.items()))
        self.timeline.set_status(
            f"traffic ({traffic.phase}): {seen['sent']} requests, {seen['failed']} failed"
            + (f"; answered by {by_version}" if by_version else "")
        )


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


__all__ = ["STEPS", "Demo", "DemoOptions", "DemoState"]
