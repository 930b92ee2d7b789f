"""``tune()``: hyperparameter search on Optuna, each trial a run of the study's run.

The live study is Optuna's in-memory study; what persists is the tracking
store: the study is a run, every finished trial a child run written in bulk
(``_recorder``). Calling ``tune()`` again with the same ``study_name`` in
the same experiment resumes the study: its trials are read back from their
runs and added to a fresh in-memory study, so samplers and pruners continue
from everything that ran before, and trial numbers continue.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from loopml.core.errors import AlreadyExists, CorruptObject, InvalidArgument, LoopmlError
from loopml.store.records import Run, RunStatus
from loopml.tracking import Client, active_run, get_client

# The fluent SDK's current experiment (set_experiment, LOOPML_EXPERIMENT_NAME); it has no
# public accessor yet.
from loopml.tracking._fluent import _default_experiment_id
from loopml.tuning import _options as options
from loopml.tuning._objective import Objective, describe
from loopml.tuning._recorder import TrialRecorder
from loopml.tuning._remote import pack_objective
from loopml.tuning._result import TuneResult
from loopml.tuning._seam import optimize_loop, quiet_optuna
from loopml.tuning._session import Limits, Session, run_serial
from loopml.tuning._studies import (
    check_same_directions,
    find_study_run,
    load_trials,
    new_study_name,
    study_tags,
    summarise,
)

log = logging.getLogger("loopml.tuning")


def tune(
    objective: Objective,
    n_trials: int | None = None,
    timeout: float | None = None,
    *,
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    pruner: str | optuna.pruners.BasePruner | None = "median",
    direction: str | None = None,
    directions: Sequence[str] | None = None,
    parallelism: int = 1,
    executor: str = "local",
    study_name: str | None = None,
    experiment: str | None = None,
    search_space: Mapping[str, Sequence[Any]] | None = None,
    seed: int | None = None,
    catch: tuple[type[BaseException], ...] = (Exception,),
    log_best_model: bool | str = False,
    register_as: str | None = None,
    trial_timeout: float | None = None,
    resources: Mapping[str, float] | None = None,
    client: Client | None = None,
) -> TuneResult:
    """Search hyperparameters with Optuna; every trial is tracked as a run.

    ``objective(trial)`` uses Optuna's trial API (``trial.suggest_float``,
    ``trial.report(value, step)``, ``trial.should_prune()``) and returns the
    value to optimise (a sequence of values with ``directions``). Trials run
    until ``n_trials`` have run or ``timeout`` seconds have passed (one of
    them is required), in this process, or ``parallelism`` at a time on the
    ``local`` process pool or on ``ray`` (``trial_timeout`` and
    ``resources`` apply to each trial there).

    The study is a run named ``study_name`` in ``experiment`` (nested under
    the active run, if any); each trial is a child run with its params, the
    metric ``value`` (``value_0``... for several objectives), the metric
    ``intermediate_value`` by step and its state (COMPLETE, PRUNED, FAIL) in
    the tag ``loopml.tuning.state``. An exception in ``catch`` (every
    ``Exception`` by default; pass ``()`` to stop at the first, as Optuna
    does) fails the trial, with the exception in ``loopml.tuning.fail_reason``,
    and the study goes on. Ctrl-C stops the study: finished trials are kept,
    the study's run is KILLED, and calling ``tune()`` again with the same
    ``study_name`` resumes it (``n_trials`` more trials).

    With ``log_best_model`` (True, or an artifact name) the objective returns
    ``(value, model)``; the model of the best trial is logged into that
    trial's run and, with ``register_as``, registered as a new version.
    """
    if not callable(objective):
        raise InvalidArgument(
            f"objective must be a function taking an Optuna trial, not {type(objective).__name__}."
        )
    budget = options.check_budget(n_trials, timeout)
    study_directions = options.check_directions(direction, directions)
    the_sampler = options.make_sampler(sampler, search_space=search_space, seed=seed)
    the_pruner = options.make_pruner(pruner)
    workers, executor_kind = options.check_parallelism(parallelism, executor)
    model_name = options.check_model_options(log_best_model, register_as, len(study_directions))
    name = options.check_study_name(study_name) if study_name is not None else new_study_name()
    remote = workers > 1 or executor_kind == "ray"
    if not remote and (trial_timeout is not None or resources):
        raise InvalidArgument(
            "trial_timeout and resources apply to trials run by an executor: set parallelism "
            "above 1 or executor='ray'."
        )
    # Checked before anything is written: an objective workers cannot load is refused.
    blob = pack_objective(objective, catch) if remote else None

    tracking = client or get_client()
    experiment_id = _experiment_id(tracking, experiment, fluent=client is None)
    tags = study_tags(name, study_directions, the_sampler, the_pruner)
    existing = None if study_name is None else find_study_run(tracking, experiment_id, name)
    previous = _previous_trials(tracking, existing, name, tags)
    if previous and seed is not None and not isinstance(sampler, optuna.samplers.BaseSampler):
        # The same seed again would draw the same parameters as the first session.
        the_sampler = options.make_sampler(
            sampler, search_space=search_space, seed=seed + len(previous)
        )
    study = _live_study(name, the_sampler, the_pruner, study_directions, previous)
    run = _start_study_run(tracking, experiment_id, name, tags, existing, fluent=client is None)
    recorder = TrialRecorder(
        tracking,
        experiment_id,
        parent_run_id=run.info.run_id,
        user_id=run.info.user_id,  # the study's user runs its trials
        n_objectives=len(study_directions),
    )
    recorder.run_ids.update({trial.number: trial_run.info.run_id for trial, trial_run in previous})
    session = Session(study, recorder, keep_model=model_name is not None)
    limits = Limits(budget.n_trials, budget.timeout, catch)
    _run(session, objective, limits, blob, workers, executor_kind, trial_timeout, resources)

    result = TuneResult(
        study_name=name,
        experiment_id=experiment_id,
        run_id=run.info.run_id,
        study=study,
        trial_run_ids=recorder.run_ids,
        client=tracking,
    )
    if model_name is not None:
        _log_best_model(result, session, model_name, register_as)
    return result


def _live_study(
    name: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    directions: list[optuna.study.StudyDirection],
    previous: list[tuple[optuna.trial.FrozenTrial, Run]],
) -> optuna.Study:
    """The in-memory Optuna study, holding the trials of earlier sessions."""
    with quiet_optuna():
        study = optuna.create_study(
            storage=optuna.storages.InMemoryStorage(),
            sampler=sampler,
            pruner=pruner,
            study_name=name,
            directions=directions,
        )
    for trial, trial_run in previous:
        try:
            study.add_trial(trial)
        except ValueError as exc:  # Optuna's check of a trial's values and params
            raise CorruptObject(
                f"Run {trial_run.info.run_id} records trial {trial.number} of study {name!r} "
                f"that Optuna refuses ({exc}): delete that run (`loopml runs delete`) to "
                "resume the study without it."
            ) from exc
    return study


def _run(
    session: Session,
    objective: Objective,
    limits: Limits,
    blob: bytes | None,
    workers: int,
    executor_kind: str,
    trial_timeout: float | None,
    resources: Mapping[str, float] | None,
) -> None:
    """Run the trials (here, or on workers when ``blob`` holds the objective), then
    flush them and end the study's run truthfully."""
    status, error = RunStatus.FINISHED, None
    try:
        with optimize_loop(session.study):
            if blob is None:
                run_serial(session, objective, limits)
            else:
                # Imported here: the executors (and Ray) load only for parallel studies.
                from loopml.tuning._parallel import run_parallel

                run_parallel(
                    session, blob, limits, executor_kind, workers, trial_timeout, resources
                )
    except KeyboardInterrupt:
        status = RunStatus.KILLED
        raise
    except BaseException as exc:
        status, error = RunStatus.FAILED, describe(exc)[0]
        raise
    finally:
        _close(session, status, error)


def _close(session: Session, status: RunStatus, error: str | None) -> None:
    recorder = session.recorder
    failure: LoopmlError | None = None
    try:
        recorder.flush()
    except LoopmlError as exc:
        log.error("loopml: %d finished trials could not be written: %s", recorder.pending, exc)
        if status == RunStatus.FINISHED:  # else the exception already on its way wins
            failure, status, error = exc, RunStatus.FAILED, describe(exc)[0]
    summarise(
        recorder.client, recorder.parent_run_id, session.study, recorder.run_ids, status, error
    )
    if failure is not None:
        raise failure


def _experiment_id(client: Client, experiment: str | None, *, fluent: bool) -> str:
    if experiment is not None:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            with contextlib.suppress(AlreadyExists):  # another process created it first
                return client.create_experiment(experiment)
            found = client.get_experiment_by_name(experiment)
            assert found is not None
        if found.lifecycle_stage != "active":
            raise InvalidArgument(
                f"Experiment {experiment!r} is deleted: restore it with `loopml experiments "
                f"restore {found.experiment_id}` or pick another name."
            )
        return found.experiment_id
    current = active_run() if fluent else None
    if current is not None:
        return current.info.experiment_id
    if fluent:
        return _default_experiment_id()
    return "0"


def _previous_trials(
    client: Client, existing: Run | None, name: str, tags: dict[str, str]
) -> list[tuple[optuna.trial.FrozenTrial, Run]]:
    """The recorded trials of a study being resumed (none for a new study)."""
    if existing is None:
        return []
    check_same_directions(existing, name, tags)
    return load_trials(client, existing)


def _start_study_run(
    client: Client,
    experiment_id: str,
    name: str,
    tags: dict[str, str],
    existing: Run | None,
    *,
    fluent: bool,
) -> Run:
    """A new study run (nested under the active run, if any), or ``existing`` RUNNING again."""
    if existing is None:
        current = active_run() if fluent else None
        run = client.create_run(
            experiment_id,
            tags=tags,
            run_name=name,
            parent_run_id=current.info.run_id if current is not None else None,
        )
        log.info("Study %r started (run %s).", name, run.info.run_id)
        return run
    client.update_run(existing.info.run_id, status=RunStatus.RUNNING)
    for key in (k for k in tags if existing.data.tags.get(k) != tags[k]):
        client.set_tag(existing.info.run_id, key, tags[key])
    log.info("Study %r resumed (run %s).", name, existing.info.run_id)
    return existing


def _log_best_model(
    result: TuneResult, session: Session, name: str, register_as: str | None
) -> None:
    # Imported here: model packaging and the registry cost a second to import.
    from loopml.tuning._models import has_model, log_and_register

    try:
        best = result.best_trial
    except InvalidArgument as exc:
        log.warning("loopml: no model logged: %s", exc.message)
        return
    run_id = result.trial_run_ids[best.number]
    if session.best_model is not None and session.best_model[0] == best.number:
        model = session.best_model[2]
        result.model_info = log_and_register(result.client, run_id, model, name, register_as)
    elif not has_model(result.client, run_id, name):
        log.warning(
            "loopml: the best trial (%d) ran in an earlier session and its model was not "
            "kept: rebuild it from result.best_params and call result.log_model(model).",
            best.number,
        )
