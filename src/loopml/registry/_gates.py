"""Promotion gates: checks a candidate must pass before an alias moves to it.

A gate is any callable ``(GateContext) -> GateResult | bool``. The ready-made
ones compare the candidate with the alias's current holder: a metric of their
source runs (``MetricGate``), their input signatures (``SignatureGate``), or
read a validation report the candidate's run logged (``ValidationGate``). A
gate that raises counts as failed, with the exception as its message, so one
broken check can never let a promotion through.

Built-in gates are also described as data (``{"type": "metric", ...}`` over
the REST API, ``metric:accuracy`` on the command line): ``gate_from_dict`` and
``parse_gate`` build them, and ``describe_gate`` gives the dict back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.models import signature_problems
from loopml.objects import validate_tree_path
from loopml.store import GateResult, ModelVersion

if TYPE_CHECKING:
    from loopml.registry._registry import Registry

MAX_REPORT_BYTES = 16 * 1024 * 1024
MAX_RECORDED_GATES = 100


@dataclass(frozen=True, slots=True)
class GateContext:
    """What a gate judges: the candidate version and the alias's current holder (or None)."""

    registry: Registry
    name: str
    alias: str
    candidate: ModelVersion
    current: ModelVersion | None


Gate = Callable[[GateContext], "GateResult | bool"]


def gate_name(gate: object) -> str:
    """How results name a gate: its ``name``, else its function or class name."""
    name = getattr(gate, "name", None)
    if isinstance(name, str) and name:
        return name
    return str(getattr(gate, "__name__", None) or type(gate).__name__)


def run_gate(gate: Gate, context: GateContext) -> GateResult:
    """Call one gate; a raise, or an answer that is not a verdict, is a failure."""
    name = gate_name(gate)
    try:
        verdict = gate(context)
    except LoopmlError as exc:
        return GateResult(name, False, exc.message)
    except Exception as exc:  # a user's gate may fail any way: it must not promote
        return GateResult(name, False, f"the gate raised {type(exc).__name__}: {exc}")
    if isinstance(verdict, GateResult):
        return verdict
    if isinstance(verdict, bool):
        return GateResult(name, verdict, "passed" if verdict else "returned False")
    return GateResult(name, False, f"returned {verdict!r}; a gate returns a bool or a GateResult")


def check_gate_results(results: object, action: str) -> tuple[GateResult, ...]:
    """Verdicts to record with an alias move: GateResults, only for a promotion, all passed.

    The history keeps the gates a promotion passed; a set or a rollback runs
    none, and a refused promotion moves nothing, so neither carries verdicts.
    """
    found = tuple(results) if isinstance(results, list | tuple) else None
    if found is None or not all(isinstance(r, GateResult) for r in found):
        raise InvalidArgument(f"Gate verdicts must be a list of GateResult, got {results!r}.")
    if found and action != "promote":
        raise InvalidArgument(f"Gate verdicts are recorded with a promotion, not a {action!r}.")
    if len(found) > MAX_RECORDED_GATES:
        raise InvalidArgument(
            f"{len(found)} gate verdicts: at most {MAX_RECORDED_GATES} are recorded with a move."
        )
    failed = [r.gate for r in found if not r.passed]
    if failed:
        raise InvalidArgument(f"A promotion moves only when every gate passed; failed: {failed}.")
    return found


class MetricGate:
    """The candidate's run metric must be at least as good as the holder's (+ ``min_delta``).

    Passes when the alias has no holder. Fails, saying which, when either run
    has no such metric or its value is NaN: nothing to compare is not a pass.
    """

    def __init__(self, metric: str, greater_is_better: bool = True, min_delta: float = 0.0) -> None:
        if not isinstance(metric, str) or not metric:
            raise InvalidArgument(f"MetricGate needs a metric name, got {metric!r}.")
        if isinstance(min_delta, bool) or not isinstance(min_delta, int | float):
            raise InvalidArgument(f"MetricGate min_delta must be a number, got {min_delta!r}.")
        if not math.isfinite(min_delta) or min_delta < 0:
            raise InvalidArgument(f"MetricGate min_delta must be >= 0, got {min_delta!r}.")
        self.metric = metric
        self.greater_is_better = bool(greater_is_better)
        self.min_delta = float(min_delta)
        self.name = f"metric:{metric}"

    def _value(self, context: GateContext, version: ModelVersion, role: str) -> float:
        if version.run_id is None:
            raise InvalidArgument(f"the {role} (version {version.version}) has no source run")
        metrics = context.registry.client.get_run(version.run_id).data.metrics
        value = metrics.get(self.metric)
        if value is None or math.isnan(value):
            missing = "no value" if value is None else "NaN"
            raise InvalidArgument(
                f"the {role}'s run {version.run_id} has {missing} for metric {self.metric!r}"
            )
        return value

    def __call__(self, context: GateContext) -> GateResult:
        candidate = self._value(context, context.candidate, "candidate")
        if context.current is None:
            return GateResult(
                self.name, True, f"{self.metric} = {candidate:.6g}; no current holder"
            )
        held = self._value(context, context.current, "current holder")
        if self.greater_is_better:
            passed, need = candidate >= held + self.min_delta, f">= {held + self.min_delta:.6g}"
        else:
            passed, need = candidate <= held - self.min_delta, f"<= {held - self.min_delta:.6g}"
        holder = f"version {context.current.version} has {held:.6g}"
        verdict = "passes" if passed else "fails"
        return GateResult(
            self.name,
            passed,
            f"{self.metric} = {candidate:.6g} {verdict} the bar {need} ({holder})",
        )

    def describe(self) -> dict[str, Any]:
        return {
            "type": "metric",
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "min_delta": self.min_delta,
        }


class SignatureGate:
    """The candidate must accept the holder's inputs: same columns, same or wider types."""

    name = "signature"

    def __call__(self, context: GateContext) -> GateResult:
        if context.current is None:
            return GateResult(self.name, True, "no current holder to compare with")
        if context.current.signature is None:
            return GateResult(
                self.name, True, f"version {context.current.version} declares no signature"
            )
        problems = signature_problems(context.current.signature, context.candidate.signature)
        if problems:
            return GateResult(self.name, False, "; ".join(problems))
        return GateResult(
            self.name, True, f"inputs compatible with version {context.current.version}"
        )

    def describe(self) -> dict[str, Any]:
        return {"type": "signature"}


class ValidationGate:
    """The candidate's run must hold the JSON report ``report_path`` saying ``"success": true``."""

    def __init__(self, report_path: str = "validation/report.json") -> None:
        try:
            self.report_path = validate_tree_path(report_path)
        except InvalidArgument as exc:
            raise InvalidArgument(f"ValidationGate report_path: {exc.message}") from exc
        self.name = f"validation:{self.report_path}"

    def __call__(self, context: GateContext) -> GateResult:
        run_id = context.candidate.run_id
        if run_id is None:
            return GateResult(self.name, False, "the candidate has no source run")
        _, reader = context.registry.client.open_artifact(run_id, self.report_path)
        with reader:
            data = reader.read(MAX_REPORT_BYTES + 1)
        if len(data) > MAX_REPORT_BYTES:
            return GateResult(self.name, False, f"{self.report_path} is too large to be a report")
        try:
            report = json.loads(data)
        except ValueError:
            return GateResult(self.name, False, f"{self.report_path} is not valid JSON")
        success = report.get("success") if isinstance(report, dict) else None
        if success is True:
            return GateResult(self.name, True, f"{self.report_path} reports success")
        return GateResult(
            self.name, False, f"{self.report_path} reports success = {json.dumps(success)}"
        )

    def describe(self) -> dict[str, Any]:
        return {"type": "validation", "report_path": self.report_path}


def gate_from_dict(spec: Mapping[str, Any]) -> Gate:
    """A built-in gate from its description, e.g. ``{"type": "metric", "metric": "auc"}``."""
    if not isinstance(spec, Mapping):
        raise InvalidArgument(f"A gate description is a mapping with a 'type', got {spec!r}.")
    fields = dict(spec)
    kind = fields.pop("type", None)
    makers: dict[str, Callable[..., Gate]] = {
        "metric": MetricGate,
        "signature": SignatureGate,
        "validation": ValidationGate,
    }
    if kind not in makers:
        raise InvalidArgument(
            f"Unknown gate type {kind!r}: use 'metric', 'signature' or 'validation'."
        )
    try:
        return makers[kind](**fields)
    except TypeError as exc:
        raise InvalidArgument(f"Invalid {kind} gate {dict(spec)!r}: {exc}") from exc


def parse_gate(text: str) -> Gate:
    """A built-in gate from the command-line form.

    ``metric:<name>[:higher|lower][:<min delta>]``, ``signature``,
    ``validation[:<report path>]``.
    """
    kind, _, rest = text.partition(":")
    if kind == "signature" and not rest:
        return SignatureGate()
    if kind == "validation":
        return ValidationGate(rest) if rest else ValidationGate()
    if kind == "metric" and rest:
        parts = rest.split(":")
        if len(parts) <= 3:
            direction = parts[1] if len(parts) > 1 else "higher"
            delta = parts[2] if len(parts) > 2 else "0"
            if direction in ("higher", "lower"):
                try:
                    min_delta = float(delta)
                except ValueError:
                    min_delta = math.nan
                if math.isfinite(min_delta):
                    return MetricGate(parts[0], direction == "higher", min_delta)
    raise InvalidArgument(
        f"Invalid gate {text!r}: use metric:<name>[:higher|lower][:<min delta>] "
        "(e.g. metric:accuracy or metric:rmse:lower:0.01), signature, or "
        "validation[:<report path>]."
    )


def describe_gate(gate: Gate) -> dict[str, Any]:
    """The data form of a built-in gate; custom callables are named only."""
    describe = getattr(gate, "describe", None)
    if callable(describe):
        described: dict[str, Any] = describe()
        return described
    return {"type": "custom", "name": gate_name(gate)}
