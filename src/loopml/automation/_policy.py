"""``Policy``: what to do when a model's world changes, as plain data.

A policy is written in Python (``Policy(...)``), YAML or JSON (the same
keys), and stored whole in the metadata store: updating one replaces it.
This module checks its shape (types, gate syntax, triggers, canary and
limits) without touching any store; ``Policies`` checks that what it names
(model, deployment, pipeline, datasets, alert rules) exists when it is saved.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.datasets import parse_dataset_ref, validate_dataset_name
from loopml.deployments import validate_deployment_name
from loopml.evaluation import as_check
from loopml.executors import EXECUTOR_KINDS
from loopml.monitoring._monitors import validate_name
from loopml.pipelines._schedules import check_cron
from loopml.pipelines._target import check_target
from loopml.registry import validate_model_name

TRIGGER_TYPES = ("alert", "schedule", "dataset")
DEFAULT_CANARY: dict[str, Any] = {"weight": 0.1, "requests": 100, "max_seconds": 600}
DEFAULT_LIMITS: dict[str, Any] = {
    "max_error_rate": 0.05,
    "max_latency_p95_ms": None,
    "min_requests": 20,
}
MAX_PARAM_TEXT = 100_000


@dataclass(frozen=True)
class Policy:
    """Retrain ``model`` with ``pipeline`` on a trigger, gate it, canary it, promote it.

    ``holdout`` is the dataset (``name`` for its newest version, or
    ``name@version``) the candidate and the champion are evaluated on;
    ``gates`` are ``loopml.evaluation`` checks (``"min:roc_auc:0.7"``,
    ``{"type": "max_regression", ...}``). ``triggers`` list ``{"type":
    "alert", "rule": NAME}``, ``{"type": "schedule", "cron": "0 3 * * *"}``
    and ``{"type": "dataset", "name": NAME}``; a manual trigger is always
    possible. ``dataset`` names the training data: the pipeline then gets
    ``dataset="<name>@<version>"`` (see ``training_dataset``).
    """

    name: str
    model: str
    deployment: str
    pipeline: str
    holdout: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    model_step: str = "train"
    model_output: str | None = None
    task: str | None = None
    slices: list[Any] = field(default_factory=list)
    sensitive_features: list[str] = field(default_factory=list)
    gates: list[Any] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    dataset: str | None = None
    canary: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_CANARY))
    limits: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    executor: str = "local"
    workdir: str | None = None
    enabled: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        validate_name(self.name, "policy")
        validate_model_name(self.model)
        validate_deployment_name(self.deployment)
        check_target(self.pipeline)
        _dataset_ref(self.holdout, "holdout")
        _text(self.target, "target")
        _text(self.model_step, "model_step")
        if self.model_output is not None:
            _text(self.model_output, "model_output")
        if self.task not in (None, "classification", "regression"):
            raise InvalidArgument(f"Invalid task {self.task!r}: classification or regression.")
        _params(self.params)
        _strings(self.sensitive_features, "sensitive_features")
        if not isinstance(self.slices, list):
            raise InvalidArgument("slices must be a list of slice expressions.")
        if not isinstance(self.gates, list):
            raise InvalidArgument("gates must be a list of evaluation gates.")
        for gate in self.gates:
            as_check(gate)  # InvalidArgument names the bad gate
        object.__setattr__(self, "triggers", _triggers(self.triggers))
        if self.dataset is not None:
            validate_dataset_name(self.dataset)
        object.__setattr__(self, "canary", _canary({**DEFAULT_CANARY, **_mapping(self.canary)}))
        object.__setattr__(self, "limits", _limits({**DEFAULT_LIMITS, **_mapping(self.limits)}))
        if self.executor not in EXECUTOR_KINDS:
            raise InvalidArgument(
                f"Unknown executor {self.executor!r}: use one of {', '.join(EXECUTOR_KINDS)}."
            )
        if self.workdir is not None:
            _text(self.workdir, "workdir")
        if not isinstance(self.enabled, bool):
            raise InvalidArgument("enabled must be true or false.")
        if not isinstance(self.description, str) or len(self.description) > 5000:
            raise InvalidArgument("description must be text of at most 5000 characters.")

    @property
    def training_dataset(self) -> str | None:
        """The dataset whose version the pipeline gets as ``dataset``: the ``dataset``
        field, else the name of the policy's only dataset trigger, else None."""
        if self.dataset is not None:
            return self.dataset
        names = [t["name"] for t in self.triggers if t["type"] == "dataset"]
        return names[0] if len(names) == 1 else None

    def alert_rules(self) -> list[str]:
        """The alert rules whose events trigger the policy."""
        rules: list[str] = []
        for trigger in self.triggers:
            if trigger["type"] == "alert":
                rules.extend(trigger["rules"])
        return rules

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what YAML files, the store and the REST API hold)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """A policy from its JSON/YAML form; unknown keys are refused by name."""
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"A policy is a mapping of fields, not {type(data).__name__}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgument(
                f"Unknown policy field(s) {', '.join(map(repr, unknown))}: "
                f"use {', '.join(sorted(known))}."
            )
        missing = sorted(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
            and f.name not in data
        )
        if missing:
            raise InvalidArgument(f"The policy needs {', '.join(map(repr, missing))}.")
        return cls(**dict(data))


def load_policy(source: str | os.PathLike[str]) -> Policy:
    """A policy from a YAML or JSON file (safe YAML: a file never runs code)."""
    import yaml

    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(
            f"Cannot read the policy file {str(path)!r}: {exc.strerror}."
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"The policy file {str(path)!r} is not valid YAML: {exc}") from exc
    return Policy.from_dict(data or {})


# -- checks ------------------------------------------------------------------------------


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 4096 or "\x00" in value:
        raise InvalidArgument(f"{what} must be non-empty text (at most 4096 characters).")
    return value


def _strings(values: object, what: str) -> None:
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise InvalidArgument(f"{what} must be a list of names.")


def _mapping(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"Expected a mapping, got {value!r}.")
    return dict(value)


def _dataset_ref(ref: object, what: str) -> None:
    try:
        parse_dataset_ref(ref)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Invalid {what}: {exc.message}") from exc


def _params(params: object) -> None:
    if not isinstance(params, Mapping):
        raise InvalidArgument("params must map pipeline parameter names to values.")
    for key in params:
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidArgument(f"Invalid pipeline parameter name {key!r}.")
    try:
        text = json.dumps(dict(params))
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"params must be JSON values: {exc}.") from exc
    if len(text) > MAX_PARAM_TEXT:
        raise InvalidArgument(f"params are larger than {MAX_PARAM_TEXT} characters as JSON.")


def _triggers(triggers: object) -> list[dict[str, Any]]:
    """The triggers in their one stored form (an alert trigger lists ``rules``)."""
    if not isinstance(triggers, list):
        raise InvalidArgument("triggers must be a list of {type: alert|schedule|dataset, ...}.")
    out: list[dict[str, Any]] = []
    for index, trigger in enumerate(triggers):
        if not isinstance(trigger, dict) or trigger.get("type") not in TRIGGER_TYPES:
            raise InvalidArgument(
                f"Trigger {index + 1} {trigger!r:.100} needs a type: {', '.join(TRIGGER_TYPES)} "
                "(a manual trigger needs no entry)."
            )
        kind = trigger["type"]
        if kind == "alert":
            rules = trigger.get("rules", [trigger["rule"]] if "rule" in trigger else None)
            if not isinstance(rules, list) or not rules:
                raise InvalidArgument("An alert trigger names its rule: {type: alert, rule: NAME}.")
            for rule in rules:
                validate_name(rule, "alert rule")
            out.append({"type": "alert", "rules": list(rules)})
        elif kind == "schedule":
            out.append({"type": "schedule", "cron": check_cron(trigger.get("cron", ""))})
        else:
            out.append({"type": "dataset", "name": validate_dataset_name(trigger.get("name"))})
    return out


def _number(value: object, what: str, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(f"{what} must be a number, not {value!r}.")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidArgument(f"{what} must be {bound}, not {value!r}.")
    return float(value)


def _canary(canary: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(canary) - set(DEFAULT_CANARY))
    if unknown:
        raise InvalidArgument(
            f"Unknown canary option(s) {unknown}: use weight, requests, max_seconds."
        )
    weight = _number(canary["weight"], "canary.weight", 0.0, 1.0)
    if weight <= 0:
        raise InvalidArgument(
            "canary.weight must be above 0 (the share of traffic to the challenger)."
        )
    return {
        "weight": weight,
        "requests": int(_number(canary["requests"], "canary.requests", 1)),
        "max_seconds": _number(canary["max_seconds"], "canary.max_seconds", 0.001),
    }


def _limits(limits: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(limits) - set(DEFAULT_LIMITS))
    if unknown:
        raise InvalidArgument(
            f"Unknown limit(s) {unknown}: use max_error_rate, max_latency_p95_ms, min_requests."
        )
    latency = limits["max_latency_p95_ms"]
    return {
        "max_error_rate": _number(limits["max_error_rate"], "limits.max_error_rate", 0.0, 1.0),
        "max_latency_p95_ms": None
        if latency is None
        else _number(latency, "limits.max_latency_p95_ms", 0.0),
        "min_requests": int(_number(limits["min_requests"], "limits.min_requests", 1)),
    }
