"""Gates on an evaluation: declarative checks shared by promotion, policies and CI.

A check reads an ``Evaluation`` and answers with a ``GateResult`` whose
message is the one line a reviewer needs ("f1 = 0.71 is below 0.80"). The
same checks are written three ways: as objects (``MinMetric("f1", 0.8)``), as
data (``{"type": "min_metric", "metric": "f1", "threshold": 0.8}`` in a YAML
file or a policy) and on the command line (``min:f1:0.8``).

``evaluation_gates`` turns checks into registry gates for ``lm.promote``: the
candidate is evaluated once, against the alias's current holder as baseline,
and every check reads that one evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from loopml.core.errors import InvalidArgument
from loopml.evaluation._result import Evaluation
from loopml.store import GateResult

LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "mape"})
FAIRNESS_MEASURES = ("demographic_parity_difference", "equalized_odds_difference")


class Check(Protocol):
    """A declarative gate on an evaluation."""

    name: str

    def check(self, evaluation: Evaluation) -> GateResult: ...

    def describe(self) -> dict[str, Any]: ...


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(f"{what} must be a finite number, got {value!r}.")
    return float(value)


def _metric_name(metric: object) -> str:
    if not isinstance(metric, str) or not metric:
        raise InvalidArgument(f"A gate needs a metric name, got {metric!r}.")
    return metric


def _scopes(evaluation: Evaluation, slice_name: str | None) -> list[str | None]:
    """The overall scope, one slice, or every slice with rows (``"*"``)."""
    if slice_name is None:
        return [None]
    if slice_name == "*":
        return [name for name, entry in evaluation.slices.items() if entry.get("rows")]
    if slice_name not in evaluation.slices:
        raise InvalidArgument(
            f"the evaluation has no slice {slice_name!r} "
            f"(slices: {', '.join(evaluation.slices) or 'none'})"
        )
    return [slice_name]


def _where(slice_name: str | None) -> str:
    return "" if slice_name is None else f" on slice {slice_name!r}"


class _Bound:
    """A metric bound (at least / at most a threshold), overall or per slice."""

    kind = ""
    at_least = True

    def __init__(self, metric: str, threshold: float, slice: str | None = None) -> None:
        self.metric = _metric_name(metric)
        self.threshold = _number(threshold, f"{self.kind} threshold")
        if slice is not None and (not isinstance(slice, str) or not slice):
            raise InvalidArgument(f"{self.kind} slice must be a slice name or '*', got {slice!r}.")
        self.slice = slice
        suffix = "" if slice is None else f"@{slice}"
        self.name = f"{self.kind}:{metric}{suffix}"

    def check(self, evaluation: Evaluation) -> GateResult:
        failures = []
        for scope in _scopes(evaluation, self.slice):
            value = evaluation.metric(self.metric, scope)
            if value is None:
                failures.append(f"{self.metric} is not available{_where(scope)}")
            elif (value < self.threshold) if self.at_least else (value > self.threshold):
                word = "below" if self.at_least else "above"
                failures.append(
                    f"{self.metric} = {value:.4g} is {word} {self.threshold:.4g}{_where(scope)}"
                )
        if failures:
            return GateResult(self.name, False, "; ".join(failures))
        bar = ">=" if self.at_least else "<="
        return GateResult(
            self.name, True, f"{self.metric} {bar} {self.threshold:.4g}{_where(self.slice)}"
        )

    def describe(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "type": self.kind,
            "metric": self.metric,
            "threshold": self.threshold,
        }
        if self.slice is not None:
            spec["slice"] = self.slice
        return spec


class MinMetric(_Bound):
    """``metric`` must be at least ``threshold`` (overall, on a slice, or on every slice: "*")."""

    kind = "min_metric"
    at_least = True


class MaxMetric(_Bound):
    """``metric`` must be at most ``threshold`` (for errors and losses: rmse, log_loss)."""

    kind = "max_metric"
    at_least = False


class MaxRegression:
    """The candidate may be worse than the baseline on ``metric`` by at most ``max_drop``.

    With ``slices=True`` every slice is held to the same bar (or the named
    slices only). Lower-is-better metrics (mae, rmse, log loss) are known; no
    baseline (the first version of a model) passes.
    """

    kind = "max_regression"

    def __init__(
        self,
        metric: str,
        max_drop: float = 0.0,
        slices: bool | Sequence[str] = False,
        greater_is_better: bool | None = None,
    ) -> None:
        self.metric = _metric_name(metric)
        self.max_drop = _number(max_drop, "max_regression max_drop")
        if self.max_drop < 0:
            raise InvalidArgument("max_regression max_drop must be >= 0.")
        if not isinstance(slices, bool):
            if isinstance(slices, str) or not all(isinstance(s, str) for s in slices):
                raise InvalidArgument("max_regression slices is true, false or a list of names.")
            slices = list(slices)
        self.slices = slices
        self.greater_is_better = (
            metric not in LOWER_IS_BETTER if greater_is_better is None else bool(greater_is_better)
        )
        self.name = f"{self.kind}:{metric}"

    def _scopes(self, evaluation: Evaluation) -> list[str | None]:
        if self.slices is True:
            return [None, *_scopes(evaluation, "*")]
        if self.slices is False:
            return [None]
        return [None, *self.slices]

    def check(self, evaluation: Evaluation) -> GateResult:
        comparison = evaluation.baseline
        if comparison is None:
            return GateResult(self.name, True, "no baseline to compare with")
        if not comparison.metrics:
            return GateResult(self.name, False, f"the baseline {comparison.model} was not scored")
        failures, worst = [], 0.0
        for scope in self._scopes(evaluation):
            mine = evaluation.metric(self.metric, scope)
            base_metrics = (
                comparison.metrics
                if scope is None
                else comparison.slices.get(scope, {}).get("metrics", {})
            )
            theirs = base_metrics.get(self.metric)
            if mine is None or not isinstance(theirs, int | float) or not math.isfinite(theirs):
                if scope is None:
                    failures.append(f"{self.metric} is not available for both models")
                continue
            drop = (theirs - mine) if self.greater_is_better else (mine - theirs)
            worst = max(worst, drop)
            if drop > self.max_drop + 1e-12:
                failures.append(
                    f"{self.metric} {mine:.4g} vs baseline {theirs:.4g} "
                    f"(worse by {drop:.4g} > {self.max_drop:.4g}){_where(scope)}"
                )
        if failures:
            return GateResult(self.name, False, "; ".join(failures))
        return GateResult(
            self.name,
            True,
            f"{self.metric} no worse than the baseline by more than {self.max_drop:.4g}",
        )

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "metric": self.metric,
            "max_drop": self.max_drop,
            "slices": self.slices,
            "greater_is_better": self.greater_is_better,
        }


class MaxFairnessDifference:
    """A fairness difference (fairlearn's) must be at most ``max`` for each sensitive feature."""

    kind = "max_fairness_difference"

    def __init__(
        self,
        max: float,
        measure: str = "demographic_parity_difference",
        feature: str | None = None,
    ) -> None:
        self.max = _number(max, "max_fairness_difference max")
        if measure not in FAIRNESS_MEASURES:
            raise InvalidArgument(
                f"Unknown fairness measure {measure!r}: use {' or '.join(FAIRNESS_MEASURES)}."
            )
        self.measure = measure
        self.feature = feature
        self.name = f"{self.kind}:{measure}" + ("" if feature is None else f"@{feature}")

    def check(self, evaluation: Evaluation) -> GateResult:
        features = [self.feature] if self.feature else list(evaluation.fairness)
        if not features:
            return GateResult(
                self.name, False, "the evaluation has no fairness results: give sensitive_features"
            )
        failures, seen = [], []
        for feature in features:
            value = (evaluation.fairness.get(feature) or {}).get(self.measure)
            if not isinstance(value, int | float) or not math.isfinite(value):
                failures.append(f"{self.measure} is not available for {feature!r}")
            elif value > self.max:
                failures.append(f"{self.measure} of {feature!r} = {value:.4g} > {self.max:.4g}")
            else:
                seen.append(f"{feature!r} {value:.4g}")
        if failures:
            return GateResult(self.name, False, "; ".join(failures))
        return GateResult(self.name, True, f"{self.measure} <= {self.max:.4g} ({', '.join(seen)})")

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "max": self.max,
            "measure": self.measure,
            "feature": self.feature,
        }


class MaxLatency:
    """Prediction latency bounds: per row in a batch, and/or p95 of single-row calls."""

    kind = "max_latency"

    def __init__(
        self, ms_per_row: float | None = None, single_row_p95_ms: float | None = None
    ) -> None:
        if ms_per_row is None and single_row_p95_ms is None:
            raise InvalidArgument("max_latency needs ms_per_row or single_row_p95_ms.")
        self.ms_per_row = None if ms_per_row is None else _number(ms_per_row, "ms_per_row")
        self.single_row_p95_ms = (
            None if single_row_p95_ms is None else _number(single_row_p95_ms, "single_row_p95_ms")
        )
        self.name = self.kind

    def check(self, evaluation: Evaluation) -> GateResult:
        bounds = [
            ("batch_ms_per_row", self.ms_per_row, "ms per row"),
            ("single_row_ms_p95", self.single_row_p95_ms, "ms p95 for one row"),
        ]
        failures, held = [], []
        for key, bound, words in bounds:
            if bound is None:
                continue
            value = evaluation.latency.get(key)
            if not isinstance(value, int | float):
                failures.append(f"no {words} measurement")
            elif value > bound:
                failures.append(f"{value:.3g} {words} > {bound:.3g}")
            else:
                held.append(f"{value:.3g} {words} <= {bound:.3g}")
        if failures:
            return GateResult(self.name, False, "; ".join(failures))
        return GateResult(self.name, True, "; ".join(held))

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "ms_per_row": self.ms_per_row,
            "single_row_p95_ms": self.single_row_p95_ms,
        }


class SignatureCompatible:
    """The candidate must accept the baseline's inputs (same columns, same or wider types)."""

    kind = "signature"
    name = "signature"

    def check(self, evaluation: Evaluation) -> GateResult:
        if evaluation.baseline is None:
            return GateResult(self.name, True, "no baseline to compare with")
        problems = evaluation.baseline.signature_problems
        if problems:
            return GateResult(self.name, False, "; ".join(problems))
        return GateResult(self.name, True, f"inputs compatible with {evaluation.baseline.model}")

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind}


_MAKERS: dict[str, Callable[..., Check]] = {
    "min_metric": MinMetric,
    "max_metric": MaxMetric,
    "max_regression": MaxRegression,
    "max_fairness_difference": MaxFairnessDifference,
    "max_latency": MaxLatency,
    "signature": SignatureCompatible,
}


def check_from_dict(spec: Mapping[str, Any]) -> Check:
    """A check from its data form: ``{"type": "min_metric", "metric": "f1", "threshold": 0.8}``."""
    if not isinstance(spec, Mapping):
        raise InvalidArgument(f"A gate is a mapping with a 'type', got {spec!r}.")
    fields = dict(spec)
    kind = fields.pop("type", None)
    if kind not in _MAKERS:
        raise InvalidArgument(f"Unknown gate type {kind!r}: use one of {', '.join(_MAKERS)}.")
    try:
        return _MAKERS[kind](**fields)
    except TypeError as exc:
        raise InvalidArgument(f"Invalid {kind} gate {dict(spec)!r}: {exc}") from exc


GATE_SYNTAX = (
    "min:<metric>:<threshold>[:<slice>|*], max:<metric>:<threshold>[:<slice>|*], "
    "regression:<metric>:<max drop>[:slices], fairness:<max>[:<measure>[:<feature>]], "
    "latency:<ms per row>, signature"
)


def parse_check(text: str) -> Check:
    """A check from its command-line form (see ``GATE_SYNTAX``)."""
    kind, _, rest = text.partition(":")
    parts = rest.split(":") if rest else []
    try:
        if kind == "signature" and not parts:
            return SignatureCompatible()
        if kind in ("min", "max") and len(parts) in (2, 3):
            maker = MinMetric if kind == "min" else MaxMetric
            return maker(parts[0], float(parts[1]), parts[2] if len(parts) == 3 else None)
        if kind == "regression" and len(parts) in (2, 3) and parts[2:] in ([], ["slices"]):
            return MaxRegression(parts[0], float(parts[1]), slices=len(parts) == 3)
        if kind == "fairness" and 1 <= len(parts) <= 3:
            measure = parts[1] if len(parts) > 1 else FAIRNESS_MEASURES[0]
            return MaxFairnessDifference(
                float(parts[0]), measure, parts[2] if len(parts) > 2 else None
            )
        if kind == "latency" and len(parts) == 1:
            return MaxLatency(ms_per_row=float(parts[0]))
    except ValueError:
        pass
    raise InvalidArgument(f"Invalid gate {text!r}: use {GATE_SYNTAX}.")


def as_check(gate: Check | Mapping[str, Any] | str) -> Check:
    """A check from an object, its data form or its command-line form."""
    if isinstance(gate, str):
        return parse_check(gate)
    if isinstance(gate, Mapping):
        return check_from_dict(gate)
    if callable(getattr(gate, "check", None)):
        return gate
    raise InvalidArgument(f"Not a gate: {gate!r}.")


def check_gates(
    evaluation: Evaluation, gates: Sequence[Check | Mapping[str, Any] | str]
) -> list[GateResult]:
    """Run every gate on ``evaluation``; a gate that raises fails with its reason."""
    results = []
    for gate in gates:
        check = as_check(gate)
        try:
            results.append(check.check(evaluation))
        except InvalidArgument as exc:
            results.append(GateResult(check.name, False, exc.message))
    return results
