"""A study read back from its runs: summary, trials, and its plots as artifacts.

``study_details`` serves ``loopml tune show``: the study's best trial, every
trial with its run, and two plots saved as artifacts of the study's run
(``plots/optimization_history.png``, ``plots/param_importances.png``), drawn
with matplotlib's Agg renderer (no pyplot, no display). Importances are
Optuna's fANOVA on the first objective, with a small forest (8 trees of
depth 8): the ranking of Optuna's default forest, in a fraction of its time
on a thousand trials.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from loopml.store.records import Run
from loopml.tracking import Client
from loopml.tuning._records import TAG_FAIL_REASON
from loopml.tuning._seam import quiet_optuna
from loopml.tuning._studies import StudyInfo, get_study_run, load_trials, study_info

PLOTS_FOLDER = "plots"
HISTORY_PLOT = "optimization_history.png"
IMPORTANCE_PLOT = "param_importances.png"


@dataclass(frozen=True, slots=True)
class TrialRow:
    """One trial as shown: number, state, values, params, run and duration."""

    number: int
    state: str
    values: tuple[float, ...] | None
    params: dict[str, Any]
    run_id: str
    duration_seconds: float | None
    fail_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StudyDetails:
    """A study, its trials (by number), its best trial, importances and saved plots."""

    info: StudyInfo
    trials: list[TrialRow]
    best: TrialRow | None
    importances: dict[str, float]
    plots: list[str]  # artifact paths in the study's run


def load_study(
    client: Client, name: str, experiment_id: str | None = None
) -> tuple[StudyInfo, optuna.Study, dict[int, str]]:
    """A study as a fresh in-memory Optuna study, with its info and trial run ids."""
    info, study, runs = _load(client, name, experiment_id)
    return info, study, {t.number: r.info.run_id for t, r in zip(study.trials, runs, strict=True)}


def _load(
    client: Client, name: str, experiment_id: str | None
) -> tuple[StudyInfo, optuna.Study, list[Run]]:
    run = get_study_run(client, experiment_id, name)
    info = study_info(run)
    recorded = load_trials(client, run)
    with quiet_optuna():
        study = optuna.create_study(
            storage=optuna.storages.InMemoryStorage(),
            study_name=name,
            directions=[optuna.study.StudyDirection[d.upper()] for d in info.directions if d]
            or [optuna.study.StudyDirection.MINIMIZE],
        )
    study.add_trials(trial for trial, _ in recorded)
    return info, study, [trial_run for _, trial_run in recorded]


def study_details(
    client: Client,
    name: str,
    experiment_id: str | None = None,
    *,
    plots: bool = True,
    plot_folder: str | os.PathLike[str] | None = None,
) -> StudyDetails:
    """Everything ``loopml tune show`` prints; with ``plots`` the plots are saved too
    (as artifacts of the study's run, and in ``plot_folder`` when given)."""
    info, study, runs = _load(client, name, experiment_id)
    rows = [_row(trial, run) for trial, run in zip(study.trials, runs, strict=True)]
    best = None
    if len(study.directions) == 1 and any(r.state == TrialState.COMPLETE.name for r in rows):
        number = study.best_trial.number
        best = next(row for row in rows if row.number == number)
    importances = param_importances(study)
    saved = save_plots(client, info.run_id, study, importances, plot_folder) if plots else []
    return StudyDetails(info, rows, best, importances, saved)


def _row(trial: FrozenTrial, run: Run) -> TrialRow:
    duration = trial.duration
    return TrialRow(
        number=trial.number,
        state=trial.state.name,
        values=tuple(trial.values) if trial.values is not None else None,
        params=dict(trial.params),
        run_id=run.info.run_id,
        duration_seconds=duration.total_seconds() if duration is not None else None,
        fail_reason=run.data.tags.get(TAG_FAIL_REASON),
    )


def param_importances(study: optuna.Study) -> dict[str, float]:
    """fANOVA importances on the first objective; empty when they cannot be computed."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=8, max_depth=8, seed=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(
                study, evaluator=evaluator, target=lambda t: t.values[0]
            )
    except (ValueError, RuntimeError):  # no parameter varies, or a dynamic space
        return {}
    return {name: float(value) for name, value in found.items() if math.isfinite(value)}


def save_plots(
    client: Client,
    run_id: str,
    study: optuna.Study,
    importances: dict[str, float],
    folder: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Draw the history (and importances), log them into the study's run; their artifact paths.

    With ``folder`` the PNG files are also kept there (created if missing).
    """
    # A bare Figure renders with Agg and leaves pyplot's backend (the user's) alone.
    from matplotlib.figure import Figure

    figures = [(HISTORY_PLOT, Figure(figsize=(8, 4.5)))]
    _draw_history(figures[0][1], study)
    if importances:
        figure = Figure(figsize=(8, 1.2 + 0.4 * len(importances)))
        _draw_importances(figure, importances)
        figures.append((IMPORTANCE_PLOT, figure))
    with tempfile.TemporaryDirectory(prefix="loopml-tune-") as tmp:
        target = Path(folder) if folder is not None else Path(tmp)
        target.mkdir(parents=True, exist_ok=True)
        saved = []
        for name, figure in figures:
            path = target / name
            staging = Path(tmp) / f".{name}"
            figure.savefig(staging, dpi=100, format="png")
            os.replace(staging, path)  # a kept file is always whole
            client.log_artifact(run_id, str(path), PLOTS_FOLDER)
            saved.append(f"{PLOTS_FOLDER}/{name}")
    return saved


def _draw_history(figure: Any, study: optuna.Study) -> None:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    n = len(study.directions)
    for index, direction in enumerate(study.directions):
        axes = figure.add_subplot(1, n, index + 1)
        numbers = [t.number for t in complete]
        values = [t.values[index] for t in complete]
        axes.scatter(numbers, values, s=12, color="#1f77b4", label="objective value")
        if n == 1 and values:
            pick = max if direction == optuna.study.StudyDirection.MAXIMIZE else min
            best, running = [], values[0]
            for value in values:
                running = pick(running, value)
                best.append(running)
            axes.step(numbers, best, where="post", color="#d62728", label="best value")
        axes.set_xlabel("trial")
        axes.set_ylabel("value" if n == 1 else f"value {index}")
        axes.set_title(f"Optimisation history ({direction.name.lower()})")
        axes.legend(loc="best")
    figure.tight_layout()


def _draw_importances(figure: Any, importances: dict[str, float]) -> None:
    axes = figure.add_subplot(1, 1, 1)
    names = list(importances)[::-1]
    axes.barh(names, [importances[n] for n in names], color="#2ca02c")
    axes.set_xlabel("importance (fANOVA, first objective)")
    axes.set_title("Hyperparameter importances")
    figure.tight_layout()
