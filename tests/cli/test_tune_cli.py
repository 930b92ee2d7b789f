"""``loopml tune list|show``, run as a user runs them: a subprocess of the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from loopml.core.settings import Settings
from loopml.tracking import Client
from loopml.tuning import tune

LOOPML = str(Path(sys.executable).with_name("loopml"))


def _cli(*args: str, home: Path, uri: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), LOOPML_TRACKING_URI=uri, COLUMNS="200")
    return subprocess.run([LOOPML, *args], capture_output=True, text=True, env=env, timeout=120)


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -4, 4)
    if trial.number == 2:
        raise ValueError("exploded")
    return x * x


@pytest.fixture
def uri(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    client = Client(uri, settings=Settings(home=tmp_path / "home"))
    tune(
        objective,
        n_trials=8,
        sampler="random",
        seed=0,
        study_name="cli-study",
        experiment="hpo",
        client=client,
    )
    client.close()
    return uri


def test_list_shows_the_study(tmp_path: Path, uri: str) -> None:
    table = _cli("tune", "list", home=tmp_path, uri=uri)
    assert table.returncode == 0, table.stderr
    assert "cli-study" in table.stdout and "RandomSampler" in table.stdout
    listed = json.loads(_cli("tune", "list", "--json", "-e", "hpo", home=tmp_path, uri=uri).stdout)
    assert [s["name"] for s in listed] == ["cli-study"]
    assert listed[0]["trials"] == {"COMPLETE": 7, "PRUNED": 0, "FAIL": 1}


def test_show_prints_best_trials_and_saved_plots(tmp_path: Path, uri: str) -> None:
    out = tmp_path / "plots"
    shown = _cli("tune", "show", "cli-study", "--out", str(out), home=tmp_path, uri=uri)
    assert shown.returncode == 0, shown.stderr
    assert "Best trial" in shown.stdout and "Best params" in shown.stdout
    assert "ValueError: exploded" in shown.stdout
    assert "Saved plot: runs:/" in shown.stdout and "optimization_history.png" in shown.stdout
    assert (out / "optimization_history.png").is_file()
    assert (out / "param_importances.png").is_file()
    details = json.loads(
        _cli("tune", "show", "cli-study", "--json", "--no-plots", home=tmp_path, uri=uri).stdout
    )
    assert len(details["trials"]) == 8 and details["plots"] == []
    assert details["best"]["params"]["x"] == pytest.approx(
        min(
            (t for t in details["trials"] if t["state"] == "COMPLETE"), key=lambda t: t["values"][0]
        )["params"]["x"]
    )


def test_unknown_study_or_experiment_is_one_clear_line(tmp_path: Path, uri: str) -> None:
    missing = _cli("tune", "show", "nope", home=tmp_path, uri=uri)
    assert missing.returncode == 1
    assert "No study named 'nope'" in missing.stderr and "Traceback" not in missing.stderr
    wrong = _cli("tune", "list", "-e", "nowhere", home=tmp_path, uri=uri)
    assert wrong.returncode == 1 and "No experiment named 'nowhere'" in wrong.stderr
