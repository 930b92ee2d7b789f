"""``Evaluation``: what one evaluation found, as data that survives JSON.

An evaluation is read long after it was made: by gates at promotion time, by
``loopml ci gate`` in a later CI step, by the UI. So the record is plain data
with a versioned JSON form (``to_dict``/``from_dict``), and the plots travel
beside it as named PNG files, never inside the JSON.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.core.atomic import write_bytes_atomic
from loopml.core.errors import InvalidArgument, NotFound

FORMAT_VERSION = 1
EVALUATION_FILE = "evaluation.json"
PLOTS_FOLDER = "plots"


def clean_number(value: Any) -> Any:
    """A JSON-safe copy: NaN and infinities become None, NumPy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): clean_number(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_number(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Comparison:
    """The baseline's results on the same data, and the candidate's deltas against them."""

    model: str
    metrics: dict[str, float | None]
    deltas: dict[str, float | None]
    slices: dict[str, dict[str, Any]] = field(default_factory=dict)
    latency: dict[str, float | None] = field(default_factory=dict)
    signature_problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return clean_number(
            {
                "model": self.model,
                "metrics": self.metrics,
                "deltas": self.deltas,
                "slices": self.slices,
                "latency": self.latency,
                "signature_problems": self.signature_problems,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        return cls(
            model=str(data.get("model", "")),
            metrics=dict(data.get("metrics") or {}),
            deltas=dict(data.get("deltas") or {}),
            slices=dict(data.get("slices") or {}),
            latency=dict(data.get("latency") or {}),
            signature_problems=list(data.get("signature_problems") or []),
        )


@dataclass
class Evaluation:
    """One model's results on one dataset: overall, per slice, fairness, importance, latency.

    ``slices`` maps a slice's name to ``{"rows", "expression", "metrics"}``;
    ``fairness`` maps a sensitive feature to its groups and differences;
    ``explanations`` holds ``permutation`` and ``shap`` results; ``notices``
    says what could not be computed and why (the rest still was).
    """

    model: str
    task: str
    target: str
    rows: int
    metrics: dict[str, float | None]
    classes: list[Any] | None = None
    slices: dict[str, dict[str, Any]] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)
    explanations: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, float | None] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    signature: dict[str, Any] | None = None
    baseline: Comparison | None = None
    notices: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, bytes] = field(default_factory=dict, repr=False)

    def metric(self, name: str, slice_name: str | None = None) -> float | None:
        """A metric overall or of one slice; None when it is absent or undefined."""
        if slice_name is None:
            value = self.metrics.get(name)
        else:
            value = (self.slices.get(slice_name) or {}).get("metrics", {}).get(name)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
        return None

    def to_dict(self) -> dict[str, Any]:
        return clean_number(
            {
                "format": FORMAT_VERSION,
                "model": self.model,
                "task": self.task,
                "target": self.target,
                "rows": self.rows,
                "classes": self.classes,
                "metrics": self.metrics,
                "slices": self.slices,
                "fairness": self.fairness,
                "explanations": self.explanations,
                "latency": self.latency,
                "details": self.details,
                "signature": self.signature,
                "baseline": None if self.baseline is None else self.baseline.to_dict(),
                "notices": self.notices,
                "data": self.data,
                "plots": sorted(self.plots),
            }
        )

    @classmethod
    def from_dict(cls, data: Any) -> Evaluation:
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise InvalidArgument(
                "Not a loopml evaluation (format 1): write one with lm.evaluate(...) "
                "or `loopml ci report`."
            )
        try:
            baseline = data.get("baseline")
            return cls(
                model=str(data["model"]),
                task=str(data["task"]),
                target=str(data["target"]),
                rows=int(data["rows"]),
                metrics=dict(data["metrics"]),
                classes=data.get("classes"),
                slices=dict(data.get("slices") or {}),
                fairness=dict(data.get("fairness") or {}),
                explanations=dict(data.get("explanations") or {}),
                latency=dict(data.get("latency") or {}),
                details=dict(data.get("details") or {}),
                signature=data.get("signature"),
                baseline=None if baseline is None else Comparison.from_dict(baseline),
                notices=list(data.get("notices") or []),
                data=dict(data.get("data") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"Evaluation document is incomplete or malformed: {exc}") from exc

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``evaluation.json`` and ``plots/*.png`` into ``folder``; returns the JSON path."""
        root = Path(folder)
        (root / PLOTS_FOLDER).mkdir(parents=True, exist_ok=True)
        for name, png in self.plots.items():
            write_bytes_atomic(root / PLOTS_FOLDER / name, png)
        target = root / EVALUATION_FILE
        write_bytes_atomic(target, json.dumps(self.to_dict(), indent=2).encode("utf-8"))
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Evaluation:
        """Read an evaluation saved by ``save`` (the JSON file, or the folder holding it)."""
        target = Path(path)
        if target.is_dir():
            target = target / EVALUATION_FILE
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFound(
                f"No evaluation at {str(target)!r}: run `loopml ci report` first."
            ) from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidArgument(f"{str(target)!r} is not valid JSON: {exc}") from None
        evaluation = cls.from_dict(data)
        plots_dir = target.parent / PLOTS_FOLDER
        for name in data.get("plots") or []:
            plot = plots_dir / str(name)
            if plot.parent == plots_dir and plot.is_file():
                evaluation.plots[plot.name] = plot.read_bytes()
        return evaluation
