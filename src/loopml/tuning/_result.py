"""What ``tune()`` hands back: the study, its run, its best trial and that trial's run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from loopml.core.errors import InvalidState
from loopml.tracking import Client

if TYPE_CHECKING:
    import pandas as pd

    from loopml.models import ModelInfo


@dataclass(eq=False)
class TuneResult:
    """A finished (or interrupted and resumed) study.

    ``study`` is the live Optuna study, so Optuna's own tools work on it
    (``optuna.visualization``, ``study.trials``). ``trial_run_ids`` maps
    trial numbers to their runs; ``model_info`` is set when the best trial's
    model was logged (``log_best_model``).
    """

    study_name: str
    experiment_id: str
    run_id: str
    study: optuna.Study
    trial_run_ids: dict[int, str]
    client: Client = field(repr=False)
    model_info: ModelInfo | None = None

    @property
    def parent_run_id(self) -> str:
        """The study's run (each trial's run is its child)."""
        return self.run_id

    @property
    def best_trial(self) -> FrozenTrial:
        """The best complete trial; InvalidState if none completed or with several objectives."""
        if len(self.study.directions) > 1:
            raise InvalidState(
                f"Study {self.study_name!r} has {len(self.study.directions)} objectives: use "
                "best_trials (the Pareto front)."
            )
        if not self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            counts = {s.name: 0 for s in TrialState}
            for trial in self.study.get_trials(deepcopy=False):
                counts[trial.state.name] += 1
            raise InvalidState(
                f"No trial of study {self.study_name!r} completed ({counts['FAIL']} failed, "
                f"{counts['PRUNED']} pruned): see the failed trials' "
                f"loopml.tuning.fail_reason tags (`loopml tune show {self.study_name}`)."
            )
        return self.study.best_trial

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The Pareto front (the best trial alone for a single objective)."""
        return self.study.best_trials

    @property
    def best_params(self) -> dict[str, Any]:
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None  # a complete single-objective trial has one
        return value

    @property
    def best_trial_run_id(self) -> str:
        """The run of the best trial."""
        return self.trial_run_ids[self.best_trial.number]

    def trials_dataframe(self) -> pd.DataFrame:
        """Optuna's trials table with each trial's ``run_id``."""
        frame = self.study.trials_dataframe()
        if "number" in frame:
            frame["run_id"] = frame["number"].map(self.trial_run_ids)
        return frame

    def log_model(
        self, model: Any, name: str = "model", *, register_as: str | None = None, **options: Any
    ) -> ModelInfo:
        """Log ``model`` into the best trial's run (and register it), in one call.

        For a model rebuilt from ``best_params`` after the study; ``options``
        are those of ``loopml.log_model`` (``input_example``, ``signature``...).
        """
        from loopml.tuning._models import log_and_register

        info = log_and_register(
            self.client, self.best_trial_run_id, model, name, register_as, **options
        )
        self.model_info = info
        return info
