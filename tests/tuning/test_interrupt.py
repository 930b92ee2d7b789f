"""A study killed outright or interrupted with Ctrl-C, in a real process, then resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna

from loopml.core.settings import Settings
from loopml.tracking import Client
from loopml.tuning import tune

SCRIPT = """
import time, optuna
from loopml.tuning import tune

def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    time.sleep({sleep})
    return x

tune(objective, n_trials=1000, study_name="long", parallelism={parallelism}, sampler="random")
"""


def start(tmp_path: Path, uri: str, sleep: str, parallelism: int) -> subprocess.Popen[str]:
    script = tmp_path / "study.py"
    script.write_text(textwrap.dedent(SCRIPT.format(sleep=sleep, parallelism=parallelism)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(
        LOOPML_HOME=str(tmp_path / "home"),
        LOOPML_TRACKING_URI=uri,
        LOOPML_FLUSH_INTERVAL_SECONDS="0",  # each finished trial is written at once
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    return subprocess.Popen(
        [sys.executable, str(script)], env=env, stderr=subprocess.PIPE, text=True
    )


def study_runs(client: Client) -> tuple[str, dict[str, tuple[str, str]]]:
    study = client.search_runs(["0"], "tags.loopml.tuning.study = 'long'")
    if not study:
        return "", {}
    children = client.search_runs(["0"], f"tags.mlflow.parentRunId = '{study[0].info.run_id}'")
    return study[0].info.status, {
        r.info.run_name: (r.info.status, r.data.tags["loopml.tuning.state"]) for r in children
    }


def wait_for_trials(client: Client, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while len(study_runs(client)[1]) < count:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the study never wrote its trials"
        time.sleep(0.1)


def test_kill_9_keeps_finished_trials_and_the_study_resumes(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'loopml.db'}"
    client = Client(uri, settings=Settings(home=tmp_path / "home"))
    process = start(tmp_path, uri, sleep="0.05", parallelism=1)
    try:
        wait_for_trials(client, 4, process)
    finally:
        process.kill()
        process.communicate()

    status, trials = study_runs(client)
    assert status == "RUNNING"  # nobody could end it: `kill -9` gives no chance
    kept = len(trials)
    assert kept >= 4 and all(state == ("FINISHED", "COMPLETE") for state in trials.values())

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    resumed = tune(
        lambda t: t.suggest_float("x", 0, 1),
        n_trials=2,
        study_name="long",
        sampler="random",
        client=client,
    )
    assert [t.number for t in resumed.study.trials] == list(range(kept + 2))
    assert study_runs(client)[0] == "FINISHED"


def test_ctrl_c_on_a_parallel_study_records_the_running_trials(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'loopml.db'}"
    client = Client(uri, settings=Settings(home=tmp_path / "home"))
    sleep = "0.1 if trial.number < 2 else 60"
    process = start(tmp_path, uri, sleep=sleep, parallelism=2)
    try:
        wait_for_trials(client, 2, process)
        time.sleep(1.0)  # trials 2 and 3 are running in the workers now
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr

    status, trials = study_runs(client)
    assert status == "KILLED"
    assert trials["trial-0"] == ("FINISHED", "COMPLETE")
    assert trials["trial-1"] == ("FINISHED", "COMPLETE")
    assert trials["trial-2"] == ("KILLED", "FAIL")
    assert trials["trial-3"] == ("KILLED", "FAIL")
    assert len(trials) == 4
