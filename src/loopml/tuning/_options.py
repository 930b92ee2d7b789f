"""Turning ``tune()``'s arguments into Optuna objects, refusing what cannot work.

Every check runs before the study run is created, so bad input writes
nothing. Names are the ones Optuna users know: ``sampler="tpe"`` is a
``TPESampler``, ``pruner="median"`` a ``MedianPruner``; an Optuna sampler
or pruner instance is used as it is.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from loopml.core.errors import InvalidArgument

SAMPLERS = ("tpe", "random", "cmaes", "grid")
PRUNERS = ("median", "hyperband", "none")
EXECUTORS = ("local", "ray")
DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True, slots=True)
class Budget:
    """When to stop starting trials: a count, a time limit in seconds, or both."""

    n_trials: int | None
    timeout: float | None


def check_budget(n_trials: int | None, timeout: float | None) -> Budget:
    """Refuse a study without an end: Optuna would run it until it is interrupted."""
    if n_trials is None and timeout is None:
        raise InvalidArgument(
            "Give n_trials, timeout (seconds) or both: without either the study would run "
            "until it is interrupted."
        )
    if n_trials is not None and (
        isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1
    ):
        raise InvalidArgument(f"n_trials must be a positive int, not {n_trials!r}.")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise InvalidArgument(f"timeout must be a positive number of seconds, not {timeout!r}.")
    return Budget(n_trials, None if timeout is None else float(timeout))


def check_directions(
    direction: str | None, directions: Sequence[str] | None
) -> list[optuna.study.StudyDirection]:
    """One direction (``minimize`` by default) or a list of them for several objectives."""
    if direction is not None and directions is not None:
        raise InvalidArgument("Give direction or directions, not both.")
    names = list(directions) if directions is not None else [direction or "minimize"]
    if not names:
        raise InvalidArgument("directions is empty: give one direction per objective value.")
    result = []
    for name in names:
        text = str(name).lower()
        if text not in DIRECTIONS:
            raise InvalidArgument(
                f"Unknown direction {name!r}: use 'minimize' or 'maximize' (one per objective)."
            )
        result.append(optuna.study.StudyDirection[text.upper()])
    return result


def make_sampler(
    sampler: str | optuna.samplers.BaseSampler,
    *,
    search_space: Mapping[str, Sequence[Any]] | None,
    seed: int | None,
) -> optuna.samplers.BaseSampler:
    """The named Optuna sampler (seeded), or the instance given."""
    if isinstance(sampler, optuna.samplers.BaseSampler):
        return sampler
    name = str(sampler).lower()
    if name == "grid":
        if not search_space:
            raise InvalidArgument(
                "sampler='grid' needs search_space: a dict of parameter name -> the values to "
                "try, e.g. search_space={'lr': [0.01, 0.1], 'depth': [2, 4]}."
            )
        space = {str(k): list(v) for k, v in search_space.items()}
        for key, values in space.items():
            if not values:
                raise InvalidArgument(f"search_space[{key!r}] is empty: list the values to try.")
        try:
            return optuna.samplers.GridSampler(space, seed=seed)
        except ValueError as exc:
            raise InvalidArgument(f"Invalid grid search_space: {exc}") from exc
    if search_space is not None:
        raise InvalidArgument(
            f"search_space is only used by sampler='grid' (got sampler={sampler!r}): with the "
            "other samplers the objective defines the space with trial.suggest_*."
        )
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        if importlib.util.find_spec("cmaes") is None:
            raise InvalidArgument(
                "sampler='cmaes' needs the cmaes package: pip install 'loopml[tune]' "
                "(or pip install cmaes)."
            )
        return optuna.samplers.CmaEsSampler(seed=seed)
    raise InvalidArgument(
        f"Unknown sampler {sampler!r}: use one of {', '.join(SAMPLERS)}, or pass an Optuna "
        "sampler instance."
    )


def make_pruner(pruner: str | optuna.pruners.BasePruner | None) -> optuna.pruners.BasePruner:
    """The named Optuna pruner, ``NopPruner`` for None, or the instance given."""
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    name = "none" if pruner is None else str(pruner).lower()
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise InvalidArgument(
        f"Unknown pruner {pruner!r}: use 'median', 'hyperband' or None, or pass an Optuna "
        "pruner instance."
    )


def check_parallelism(parallelism: int, executor: str) -> tuple[int, str]:
    """A positive worker count and a known executor name."""
    if isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1:
        raise InvalidArgument(f"parallelism must be a positive int, not {parallelism!r}.")
    kind = str(executor).lower()
    if kind not in EXECUTORS:
        raise InvalidArgument(f"Unknown executor {executor!r}: use 'local' or 'ray'.")
    return parallelism, kind


def check_study_name(name: str) -> str:
    """A study name: printable text that fits a run name."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid study name {name!r}: give a non-empty string.")
    if len(name) > 200 or not name.isprintable():
        raise InvalidArgument(
            f"Invalid study name {name[:40]!r}: use at most 200 printable characters."
        )
    return name


def check_model_options(
    log_best_model: bool | str, register_as: str | None, n_objectives: int
) -> str | None:
    """The artifact name the best trial's model is logged under, or None."""
    name: str | None
    if log_best_model is True:
        name = "model"
    elif log_best_model is False or log_best_model is None:
        name = None
    elif isinstance(log_best_model, str) and log_best_model.strip():
        name = log_best_model
    else:
        raise InvalidArgument(
            f"log_best_model must be True or an artifact name such as 'model', not "
            f"{log_best_model!r}."
        )
    if register_as is not None and name is None:
        raise InvalidArgument(
            "register_as needs log_best_model: the objective returns (value, model) and the "
            "best trial's model is logged, then registered under that name."
        )
    if name is not None and n_objectives > 1:
        raise InvalidArgument(
            "log_best_model needs a single objective: a multi-objective study has a Pareto "
            "front, not one best trial. Log the model you pick with result.log_model()."
        )
    return name
