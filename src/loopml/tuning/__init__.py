"""Tuning: hyperparameter search on Optuna's samplers and pruners, each trial a run.

``tune(objective, n_trials=...)`` runs an Optuna study whose objective uses
Optuna's own trial API; the study is a run and every trial a child run, so
studies persist in the tracking store and resume after an interruption.
"""

from loopml.tuning._options import PRUNERS, SAMPLERS
from loopml.tuning._report import StudyDetails, TrialRow, load_study, study_details
from loopml.tuning._result import TuneResult
from loopml.tuning._studies import StudyInfo, list_studies
from loopml.tuning._tune import tune

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "StudyDetails",
    "StudyInfo",
    "TrialRow",
    "TuneResult",
    "list_studies",
    "load_study",
    "study_details",
    "tune",
]
