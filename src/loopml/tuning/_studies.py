"""Studies as runs: find, start, resume, summarise and list them.

A study is a run tagged ``loopml.tuning.role=study`` and
``loopml.tuning.study=<name>``, unique by name within its experiment; its
trials are its child runs (``mlflow.parentRunId``). Nothing else is stored,
so studies need no table of their own: resuming reads the trial records of
the child runs back (one search), and the live study is rebuilt in memory.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument, NotFound
from loopml.store.records import Metric, Run, RunStatus, RunTag, ViewType
from loopml.tracking import Client
from loopml.tuning._records import (
    TAG_ROLE,
    TAG_STUDY,
    run_to_trial,
    state_counts,
)

TAG_DIRECTIONS = "loopml.tuning.directions"
TAG_SAMPLER = "loopml.tuning.sampler"
TAG_PRUNER = "loopml.tuning.pruner"
TAG_BEST_TRIAL = "loopml.tuning.best_trial"
TAG_BEST_RUN = "loopml.tuning.best_run_id"
TAG_BEST_PARAMS = "loopml.tuning.best_params"
TAG_ERROR = "loopml.tuning.error"
ROLE_STUDY = "study"


@dataclass(frozen=True, slots=True)
class StudyInfo:
    """A study as listed: its name, run, directions and how its trials ended."""

    name: str
    run_id: str
    experiment_id: str
    status: str
    directions: tuple[str, ...]
    sampler: str
    pruner: str
    start_time: int
    end_time: int | None
    trials: dict[str, int]
    best_value: float | None
    best_trial: int | None


def new_study_name() -> str:
    return f"study-{uuid.uuid4().hex[:8]}"


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def find_study_run(client: Client, experiment_id: str, name: str) -> Run | None:
    """The run of study ``name`` in the experiment, or None (the oldest if several)."""
    found = client.search_runs(
        [experiment_id],
        f"tags.{TAG_ROLE} = '{ROLE_STUDY}' and tags.{TAG_STUDY} = {_quoted(name)}",
        ViewType.ACTIVE_ONLY,
        max_results=1,
        order_by=["start_time ASC"],
    )
    return found[0] if found else None


def study_tags(
    name: str,
    directions: Sequence[optuna.study.StudyDirection],
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> dict[str, str]:
    return {
        TAG_ROLE: ROLE_STUDY,
        TAG_STUDY: name,
        TAG_DIRECTIONS: ",".join(d.name.lower() for d in directions),
        TAG_SAMPLER: type(sampler).__name__,
        TAG_PRUNER: type(pruner).__name__,
    }


def check_same_directions(run: Run, name: str, tags: dict[str, str]) -> None:
    """A resumed study keeps its directions (Optuna cannot change them either)."""
    stored = run.data.tags.get(TAG_DIRECTIONS, "")
    if stored != tags[TAG_DIRECTIONS]:
        raise InvalidArgument(
            f"Study {name!r} was created with directions {stored!r}, not "
            f"{tags[TAG_DIRECTIONS]!r}: pass the same direction(s) to resume it, or choose "
            "another study_name."
        )


def load_trials(client: Client, run: Run) -> list[tuple[FrozenTrial, Run]]:
    """The recorded trials of a study run with their runs, by trial number."""
    found: list[tuple[FrozenTrial, Run]] = []
    token: str | None = None
    while True:
        page = client.search_runs(
            [run.info.experiment_id],
            f"tags.mlflow.parentRunId = {_quoted(run.info.run_id)}",
            ViewType.ACTIVE_ONLY,
            max_results=50_000,
            page_token=token,
        )
        for child in page:
            trial = run_to_trial(child)
            if trial is not None:
                found.append((trial, child))
        token = page.token
        if not token:
            break
    found.sort(key=lambda item: item[0].number)
    return found


def summarise(
    client: Client,
    run_id: str,
    study: optuna.Study,
    run_ids: dict[int, str],
    status: RunStatus,
    error: str | None,
) -> None:
    """Write the study's best trial and counts on its run, then end the run with ``status``."""
    trials = study.get_trials(deepcopy=False)
    counts = state_counts(trials)
    step = len(trials)
    metrics = [Metric(f"trials_{k.lower()}", float(v), now_ms(), step) for k, v in counts.items()]
    tags: list[RunTag] = []
    best = best_trial_or_none(study)
    if best is not None:
        if best.values is not None and len(best.values) == 1:
            metrics.append(Metric("best_value", float(best.values[0]), now_ms(), step))
        tags.append(RunTag(TAG_BEST_TRIAL, str(best.number)))
        tags.append(RunTag(TAG_BEST_PARAMS, json.dumps(best.params, default=str)[:8000]))
        if best.number in run_ids:
            tags.append(RunTag(TAG_BEST_RUN, run_ids[best.number]))
    if error is not None:
        tags.append(RunTag(TAG_ERROR, error[:8000]))
    try:
        client.log_batch(run_id, metrics=metrics, tags=tags)
    finally:
        client.set_terminated(run_id, status)


def best_trial_or_none(study: optuna.Study) -> FrozenTrial | None:
    """The best complete trial of a single-objective study, else None."""
    if len(study.directions) != 1:
        return None
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    return study.best_trial


def get_study_run(client: Client, experiment_id: str | None, name: str) -> Run:
    """The run of study ``name`` (in one experiment, or in any); NotFound otherwise."""
    ids = [experiment_id] if experiment_id is not None else _experiment_ids(client)
    for exp_id in ids:
        run = find_study_run(client, exp_id, name)
        if run is not None:
            return run
    where = f"experiment {experiment_id}" if experiment_id is not None else "any experiment"
    raise NotFound(f"No study named {name!r} in {where}: `loopml tune list` shows the studies.")


def _experiment_ids(client: Client) -> list[str]:
    return [e.experiment_id for e in client.search_experiments(max_results=50_000)]


def list_studies(client: Client, experiment_id: str | None = None) -> list[StudyInfo]:
    """Every study (of one experiment, or of all), newest first."""
    ids = [experiment_id] if experiment_id is not None else _experiment_ids(client)
    if not ids:
        return []
    runs = client.search_runs(
        ids,
        f"tags.{TAG_ROLE} = '{ROLE_STUDY}'",
        ViewType.ACTIVE_ONLY,
        max_results=50_000,
        order_by=["start_time DESC"],
    )
    return [study_info(run) for run in runs]


def study_info(run: Run) -> StudyInfo:
    """What a study's run says about the study (its counts as of its last session)."""
    tags, metrics = run.data.tags, run.data.metrics
    best_trial = tags.get(TAG_BEST_TRIAL)
    return StudyInfo(
        name=tags.get(TAG_STUDY, run.info.run_name),
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        status=run.info.status,
        directions=tuple(tags.get(TAG_DIRECTIONS, "").split(",")),
        sampler=tags.get(TAG_SAMPLER, ""),
        pruner=tags.get(TAG_PRUNER, ""),
        start_time=run.info.start_time,
        end_time=run.info.end_time,
        trials={
            state: int(metrics.get(f"trials_{state.lower()}", 0))
            for state in ("COMPLETE", "PRUNED", "FAIL")
        },
        best_value=metrics.get("best_value"),
        best_trial=int(best_trial) if best_trial is not None else None,
    )
