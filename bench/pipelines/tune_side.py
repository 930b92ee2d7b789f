"""One side-by-side of the tuning benchmark, run in its own interpreter.

    python tune_side.py SAMPLER TRIALS REPS

Times ``REPS`` times, alternating the two sides so that a busy machine slows
both alike: plain Optuna (``optuna.create_study()`` in memory, then
``optimize``) and ``loopml.tuning.tune`` with every trial tracked as a run in
a fresh SQLite store (created and migrated before the clock starts; the
study's run, the trials' runs and the final flush are inside the timing).
Both use the same seeded sampler and the trivial objective ``x**2``.
Prints one JSON object: the seconds of each repetition of each side.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import optuna

from loopml.core.settings import Settings
from loopml.tracking import Client
from loopml.tuning import tune


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    return x**2


def sampler(name: str) -> optuna.samplers.BaseSampler:
    if name == "random":
        return optuna.samplers.RandomSampler(seed=0)
    return optuna.samplers.TPESampler(seed=0)


def plain_optuna(name: str, trials: int) -> float:
    gc.collect()  # each side starts without the other's garbage
    start = time.perf_counter()
    study = optuna.create_study(sampler=sampler(name))
    study.optimize(objective, n_trials=trials)
    elapsed = time.perf_counter() - start
    assert len(study.trials) == trials
    return elapsed


def loopml_tune(name: str, trials: int, folder: Path) -> float:
    settings = Settings(home=folder / "home")
    client = Client(f"sqlite:///{folder / 'loopml.db'}", settings=settings)
    client.get_experiment("0")  # the store exists and is migrated before the clock starts
    gc.collect()
    start = time.perf_counter()
    result = tune(objective, n_trials=trials, sampler=sampler(name), client=client)
    elapsed = time.perf_counter() - start
    runs = client.search_runs(
        ["0"], f"tags.mlflow.parentRunId = '{result.run_id}'", max_results=trials + 1
    )
    assert len(runs) == trials, f"{len(runs)} trial runs recorded, not {trials}"
    client.close()
    return elapsed


def main(name: str, trials: int, reps: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plain_optuna(name, 20)  # warm both paths up (imports, first compilations)
    with tempfile.TemporaryDirectory(prefix="loopml-bench-tune-") as tmp:
        loopml_tune(name, 20, Path(tmp) / "warm")
        figures: dict[str, list[float]] = {"optuna": [], "loopml": []}
        for rep in range(reps):
            figures["optuna"].append(plain_optuna(name, trials))
            figures["loopml"].append(loopml_tune(name, trials, Path(tmp) / f"rep{rep}"))
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
