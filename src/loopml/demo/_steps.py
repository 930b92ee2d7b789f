"""The demo's set-up steps, each a plain call of loopml's own API.

Tuning, the first champion, the deployment with its inference server, and
watching the monitor until the drift alert fires. Each function does one
step the way a user's script would, so the demo doubles as an example.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

import loopml as lm
from loopml.core.errors import InvalidState
from loopml.datasets import Datasets
from loopml.demo._data import FEATURES, TARGET
from loopml.demo._model import fit, roc_auc, suggest
from loopml.demo._processes import ChildServer, child_environment, free_port, start_child
from loopml.demo._timeline import Timeline
from loopml.deployments import Deployments
from loopml.monitoring import open_monitors
from loopml.registry import Registry
from loopml.store import AlertEvent, Metric, Param
from loopml.tracking import Client

MODEL = "churn"
MONITOR = "churn-live"
DRIFT_RULE = "churn-drift"
EXPERIMENT = "churn"
POLL_SECONDS = 0.5


def tune_settings(
    client: Client, frame: pd.DataFrame, trials: int
) -> tuple[dict[str, Any], float, int]:
    """A small Optuna study (3-fold ROC AUC), every trial a run: best settings, value, count."""
    from sklearn.model_selection import StratifiedKFold

    folds = list(
        StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(frame, frame[TARGET])
    )

    def objective(trial: Any) -> float:
        params = suggest(trial)
        scores = []
        for step, (fit_rows, check_rows) in enumerate(folds):
            scores.append(roc_auc(fit(frame.iloc[fit_rows], params), frame.iloc[check_rows]))
            trial.report(sum(scores) / len(scores), step)
        return sum(scores) / len(scores)

    result = lm.tune(
        objective,
        n_trials=trials,
        direction="maximize",
        study_name="churn-tuning",
        experiment=EXPERIMENT,
        seed=0,
        pruner=None,
        client=client,
    )
    best = result.best_trial
    params = {"kind": "logreg", "C": 1.0, "learning_rate": 0.1, "max_depth": 3, "max_iter": 80}
    params.update(best.params)
    return params, float(best.value or 0.0), len(result.study.trials)


def train_champion(
    client: Client,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    params: dict[str, Any],
    *,
    dataset: str,
) -> tuple[int, float]:
    """Train with the tuned settings in a run, register it, make it champion: version, AUC."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(EXPERIMENT)
    run_id = client.create_run(experiment_id, run_name="first-champion").info.run_id
    model = fit(train, params)
    auc = roc_auc(model, holdout)
    client.log_batch(
        run_id,
        params=[Param(k, str(v)) for k, v in params.items()],
        metrics=[Metric("roc_auc", auc, int(time.time() * 1000), 0)],
    )
    Datasets(client).log_input(dataset, run_id, context="training")  # the monitor's reference
    info = lm.log_model(
        model,
        "model",
        input_example=train[list(FEATURES)].head(5),
        registered_model_name=MODEL,
        client=client,
        run_id=run_id,
    )
    client.set_terminated(run_id)
    version = int(info.registered_model_version or 0)
    Registry(client).set_alias(MODEL, "champion", version, reason="loopml demo: first champion")
    return version, auc


def deploy(
    client: Client, server: ChildServer, *, folder: Path, home: Path, threads: dict[str, str]
) -> ChildServer:
    """The ``churn`` deployment on the champion alias, and ``loopml serve`` following it."""
    Deployments(client).create(
        MODEL, f"models:/{MODEL}@champion", description="loopml demo: churn scoring"
    )
    port = free_port()
    env = child_environment(home, {"LOOPML_TRACKING_URI": server.url, **threads})
    return start_child(
        "inference server",
        [
            "serve",
            "--deployment",
            MODEL,
            "--port",
            str(port),
            "--reload-interval",
            "1",
            "--no-onnx",
        ],
        env=env,
        port=port,
        ready_path="/v2/health/ready",
        log=folder / "logs" / "serve.log",
    )


def watch_monitor(
    client: Client,
    timeline: Timeline,
    *,
    after_ms: int,
    deadline: float,
    tick: Callable[[], None],
) -> AlertEvent:
    """Show each new window's drift until the drift rule fires on a window after ``after_ms``."""
    monitors = open_monitors(client)
    seen_end = 0
    while True:
        for result in monitors.results(MONITOR, since_ms=seen_end or None):
            if result.window_end <= seen_end:
                continue
            seen_end = result.window_end
            timeline.event("monitor", describe_window(result.metrics, result.window_end))
        for event in monitors.events(rule=DRIFT_RULE, limit=10):
            if event.window_end > after_ms:
                timeline.event("alert", event.message)
                return event
        if time.monotonic() > deadline:
            raise InvalidState(
                f"No drift alert within the time allowed: see `loopml monitor results {MONITOR}`."
            )
        tick()
        time.sleep(POLL_SECONDS)


def describe_window(metrics: dict[str, float | None], window_end: int) -> str:
    """``window to 12:00:10: 250 rows, drift share 0.71, accuracy 0.62``."""
    parts = [f"{int(metrics.get('rows') or 0)} rows"]
    share = metrics.get("drift_share")
    if share is not None:
        parts.append(f"drift share {share:.2f}")
    accuracy = metrics.get("accuracy")
    if accuracy is not None:
        parts.append(f"accuracy {accuracy:.2f}")
    clock = time.strftime("%H:%M:%S", time.localtime(window_end / 1000))
    return f"window to {clock}: " + ", ".join(parts)
