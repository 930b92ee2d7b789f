"""Evaluation checks as registry gates: ``lm.promote(..., gates=evaluation_gates(...))``.

The registry runs gates one by one, each with the candidate version and the
alias's current holder. Evaluating the candidate is the expensive part, so the
gates made by one ``evaluation_gates`` call share one evaluation per
(candidate, holder) pair, and each check reads it: the promotion history then
lists every check with its own verdict.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from loopml.evaluation._evaluate import evaluate
from loopml.evaluation._gates import Check, as_check
from loopml.evaluation._result import Evaluation
from loopml.registry import GateContext
from loopml.store import GateResult


class _SharedEvaluation:
    """One evaluation per (model, candidate version, holder version), computed on first use."""

    def __init__(self, data: Any, options: dict[str, Any]) -> None:
        self._data = data
        self._options = options
        self._lock = threading.Lock()
        self._done: dict[tuple[str, int, int | None], Evaluation] = {}

    def get(self, context: GateContext) -> Evaluation:
        current = None if context.current is None else context.current.version
        key = (context.name, context.candidate.version, current)
        with self._lock:
            if key not in self._done:
                baseline = None if current is None else f"models:/{context.name}/{current}"
                self._done[key] = evaluate(
                    f"models:/{context.name}/{context.candidate.version}",
                    self._data,
                    baseline=baseline,
                    client=context.registry.client,
                    **self._options,
                )
            return self._done[key]


class EvaluationGate:
    """A registry gate that runs one evaluation check on the shared evaluation."""

    def __init__(self, check: Check, shared: _SharedEvaluation) -> None:
        self.check = check
        self.name = check.name
        self._shared = shared

    def __call__(self, context: GateContext) -> GateResult:
        return self.check.check(self._shared.get(context))

    def describe(self) -> dict[str, Any]:
        return {"type": "evaluation", "check": self.check.describe()}


def evaluation_gates(
    data: pd.DataFrame | str | os.PathLike[str],
    *,
    target: str,
    checks: Sequence[Check | Mapping[str, Any] | str],
    task: str | None = None,
    slices: Sequence[str | Mapping[str, Any]] = (),
    sensitive_features: Sequence[str] = (),
    trust_pickle: bool = False,
) -> list[EvaluationGate]:
    """Gates for ``promote`` that evaluate the candidate against the current holder on ``data``.

    ``checks`` are gate objects (``MinMetric``...), their data form or their
    command-line form (``"min:f1:0.8"``). Explanations are skipped: no check
    reads them and they are the slow part.
    """
    parsed = [as_check(c) for c in checks]
    shared = _SharedEvaluation(
        data,
        {
            "target": target,
            "task": task,
            "slices": list(slices),
            "sensitive_features": list(sensitive_features),
            "explain_model": False,
            "log": False,
            "trust_pickle": trust_pickle,
        },
    )
    return [EvaluationGate(check, shared) for check in parsed]
