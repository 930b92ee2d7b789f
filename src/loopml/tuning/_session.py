"""One call of ``tune()`` on a live study: finishing trials, and the serial loop.

``Session.finish`` is the one place a trial ends, whether it ran here or in
a worker: Optuna is told, the trial's run is queued in the recorder, and the
best model so far is kept (only the best one, in memory) when the objective
returns models.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from loopml.tuning._objective import Objective, Outcome, call_objective, describe
from loopml.tuning._recorder import TrialRecorder
from loopml.tuning._seam import stop_requested, tell

log = logging.getLogger("loopml.tuning")

INTERRUPTED = "KeyboardInterrupt: the study was interrupted while this trial ran"


@dataclass(frozen=True, slots=True)
class Limits:
    """When the loop stops starting trials, and what the objective may raise."""

    n_trials: int | None
    timeout: float | None
    catch: tuple[type[BaseException], ...]

    def exhausted(self, started: int, since: float) -> bool:
        if self.n_trials is not None and started >= self.n_trials:
            return True
        return self.timeout is not None and time.monotonic() - since >= self.timeout


class Session:
    """Ends trials: tells Optuna, records the run, keeps the best model."""

    def __init__(
        self,
        study: optuna.Study,
        recorder: TrialRecorder,
        *,
        keep_model: bool,
    ) -> None:
        self.study = study
        self.recorder = recorder
        self.n_objectives = len(study.directions)
        self.keep_model = keep_model
        self._maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
        self.best_model: tuple[int, float, Any] | None = None  # (trial number, value, model)
        self.finished = 0
        # Held around every call into Optuna when trials run in workers (see _remote).
        self.lock = threading.Lock()

    def finish(self, trial: optuna.Trial, outcome: Outcome, *, killed: bool = False) -> FrozenTrial:
        """End ``trial`` as ``outcome`` says; ``killed`` marks a trial cut short by Ctrl-C."""
        frozen = tell(self.study, trial, outcome.state, outcome.values)
        self.recorder.add(frozen, outcome.fail_reason, outcome.traceback, killed)
        self.finished += 1
        if frozen.state == TrialState.COMPLETE:
            if self.keep_model and frozen.values is not None:
                self._keep(frozen.number, frozen.values[0], outcome.model)
            if log.isEnabledFor(logging.INFO):
                log.info("Trial %d finished with values %s", frozen.number, frozen.values)
        elif frozen.state == TrialState.FAIL:
            log.warning("Trial %d failed: %s", frozen.number, outcome.fail_reason)
        return frozen

    def _keep(self, number: int, value: float, model: Any) -> None:
        if self.best_model is not None:
            best = self.best_model[1]
            if (value <= best) if self._maximize else (value >= best):
                return
        self.best_model = (number, value, model)

    def fail_running(self, trial: optuna.Trial, exc: BaseException) -> None:
        """End a trial whose objective raised past ``catch`` (or was interrupted)."""
        if isinstance(exc, KeyboardInterrupt):
            self.finish(trial, Outcome(TrialState.FAIL, fail_reason=INTERRUPTED), killed=True)
            return
        reason, text = describe(exc)
        self.finish(trial, Outcome(TrialState.FAIL, fail_reason=reason, traceback=text))


def run_serial(session: Session, objective: Objective, limits: Limits) -> None:
    """Run trials one after another in this process, Optuna's trial object in hand."""
    study = session.study
    started, since = 0, time.monotonic()
    with_model = session.keep_model
    while not stop_requested(study) and not limits.exhausted(started, since):
        trial = study.ask()
        started += 1
        try:
            outcome = call_objective(
                objective,
                trial,
                n_objectives=session.n_objectives,
                with_model=with_model,
                catch=limits.catch,
            )
        except BaseException as exc:
            session.fail_running(trial, exc)
            raise
        session.finish(trial, outcome)
