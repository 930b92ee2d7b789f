"""Calling an objective and judging what it did: complete, pruned or failed.

The same judgement serves trials run in this process and in workers, so a
trial ends the same way wherever it ran. As in Optuna, raising
``optuna.TrialPruned`` prunes the trial; an exception listed in ``catch``
fails the trial and the study goes on; a returned NaN, a non-number or the
wrong number of values fails it too, with a message saying what came back.
Infinity is a valid value, as in Optuna.
"""

from __future__ import annotations

import math
import numbers
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

# One objective's signature: a trial in, a value (or values, or (value, model)) out.
Objective = Callable[[Any], Any]


@dataclass(slots=True)
class Outcome:
    """How one call of the objective ended."""

    state: TrialState
    values: list[float] | None = None
    fail_reason: str | None = None
    traceback: str | None = None
    model: Any = None


def describe(exc: BaseException) -> tuple[str, str]:
    """(``Type: message``, the formatted traceback) of an exception."""
    return f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc))


def call_objective(
    objective: Objective,
    trial: Any,
    *,
    n_objectives: int,
    with_model: bool,
    catch: tuple[type[BaseException], ...],
) -> Outcome:
    """Run the objective on ``trial``; exceptions outside ``catch`` propagate."""
    try:
        returned = objective(trial)
    except optuna.TrialPruned:
        return Outcome(TrialState.PRUNED)
    except catch as exc:
        reason, text = describe(exc)
        return Outcome(TrialState.FAIL, fail_reason=reason, traceback=text)
    return judge(returned, n_objectives=n_objectives, with_model=with_model)


def _is_number(value: Any) -> bool:
    # Real numbers, NumPy scalars and 0-d tensors; not bools or strings Python could parse.
    if isinstance(value, bool | str | bytes):
        return False
    return isinstance(value, numbers.Real) or hasattr(value, "__float__")


def _failed(message: str) -> Outcome:
    return Outcome(TrialState.FAIL, fail_reason=message)


def judge(returned: Any, *, n_objectives: int, with_model: bool) -> Outcome:
    """The outcome of a trial whose objective returned ``returned``."""
    if type(returned) is float and n_objectives == 1 and not with_model:  # the common case
        if returned != returned:
            return _failed("The objective returned NaN: the trial failed (as Optuna records it).")
        return Outcome(TrialState.COMPLETE, values=[returned])
    model = None
    if with_model:
        if not isinstance(returned, tuple) or len(returned) != 2:
            return _failed(
                "log_best_model is set, so the objective must return (value, model); it "
                f"returned {_short(returned)}."
            )
        returned, model = returned
    if n_objectives == 1:
        raw: Sequence[Any] = [returned]
    elif isinstance(returned, Sequence) and not isinstance(returned, str | bytes):
        raw = returned
        if len(raw) != n_objectives:
            return _failed(
                f"The objective returned {len(raw)} values; the study has {n_objectives} "
                "directions, one per value."
            )
    else:
        return _failed(
            f"The objective returned {_short(returned)}; a study with {n_objectives} "
            f"directions needs a sequence of {n_objectives} numbers."
        )
    values = []
    for value in raw:
        if not _is_number(value):
            return _failed(
                f"The objective returned {_short(value)}, which is not a number: return a "
                "float (or raise optuna.TrialPruned to prune the trial)."
            )
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            return _failed(f"The objective returned {_short(value)}: {exc}.")
        if math.isnan(number):
            return _failed("The objective returned NaN: the trial failed (as Optuna records it).")
        values.append(number)
    return Outcome(TrialState.COMPLETE, values=values, model=model)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
