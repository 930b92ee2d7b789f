"""The few Optuna internals the tuning loop relies on, in one place.

``tune()`` drives the study with ``ask`` and a tell of its own instead of
``Study.optimize`` (trials may run in other processes, and each finished
trial must be handed to the recorder). Three things ``optimize`` does that
the public API does not expose are done here, exactly as Optuna's own
``_optimize`` does them:

- the "inside an optimisation loop" flag, so ``trial.study.stop()`` from an
  objective and the ``GridSampler`` (which stops the study when its grid is
  exhausted) work, and the stop flag they set is read;
- the tell without the deep copy ``Study.tell`` returns (a copy per trial is
  a large share of the per-trial cost of a fast study);
- the stored ``FrozenTrial`` of a live trial, read without a copy.

Pinned by the tests in ``tests/tuning``; an Optuna upgrade that changes
them fails there first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import optuna
from optuna.study._tell import _tell_with_warning
from optuna.trial import FrozenTrial, TrialState


@contextlib.contextmanager
def optimize_loop(study: optuna.Study) -> Iterator[None]:
    """Mark ``study`` as being optimised in this thread, as ``Study.optimize`` does."""
    local = study._thread_local
    if local.in_optimize_loop:
        raise RuntimeError("Nested invocation of `Study.optimize` method isn't allowed.")
    study._stop_flag = False
    local.in_optimize_loop = True
    try:
        yield
    finally:
        local.in_optimize_loop = False


def stop_requested(study: optuna.Study) -> bool:
    """Whether ``study.stop()`` was called (by an objective or a sampler)."""
    return bool(study._stop_flag)


def tell(
    study: optuna.Study, trial: optuna.Trial, state: TrialState, values: list[float] | None
) -> FrozenTrial:
    """Finish ``trial`` with ``state`` (and ``values`` when COMPLETE); its stored record.

    Returns Optuna's own record, not a copy: read it, never change it.
    """
    _tell_with_warning(
        study=study,
        trial=trial,
        value_or_values=values if state == TrialState.COMPLETE else None,
        state=state,
        suppress_warning=True,
    )
    return study._storage.get_trial(trial._trial_id)


def trial_id(trial: optuna.Trial) -> int:
    """The storage's id of a live trial (Optuna hands it to its storage calls)."""
    return int(trial._trial_id)


def request_stop(study: optuna.Study) -> None:
    """``study.stop()`` from a thread outside the loop (a worker's request)."""
    study._stop_flag = True


def forget_cached_trials(study: optuna.Study) -> None:
    """Drop this thread's cached list of trials, as ask and tell do in theirs."""
    study._thread_local.cached_all_trials = None


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Hide Optuna's INFO lines (\"A new study created in memory...\") for a moment.

    The in-memory study is an implementation detail here: a resumed study is
    not new, and ``loopml tune show`` should print only what it was asked.
    """
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)
