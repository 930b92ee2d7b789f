"""What a monitor watches and how: checked once, when the monitor is created.

The spec is stored as JSON with the monitor (``Monitor.spec``); every run
reads it back through ``MonitorSpec.from_dict``, so a monitor defined from
the CLI, the SDK or the REST API behaves the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.monitoring._drift import ColumnOptions
from loopml.monitoring._stattests import STATTESTS
from loopml.monitoring._windows import format_duration, parse_duration

TASKS = ("classification", "regression")
ROLES = ("primary", "canary", "shadow")
DRIFT_KEYS = frozenset({"method", "threshold", "per_column", "drift_share"})
MAX_WINDOWS = 1000
MIN_WINDOW_MS = 1000


@dataclass(frozen=True)
class MonitorSpec:
    """A monitor's settings.

    ``reference`` names a dataset version (``NAME@3``, or ``NAME`` for its
    newest); None means the training data of the deployment's current model,
    found through lineage (the dataset versions its run logged as inputs).
    """

    window_ms: int
    step_ms: int
    task: str | None = None
    target: str | None = None
    columns: tuple[str, ...] | None = None
    reference: str | None = None
    drift: dict[str, Any] = field(default_factory=dict)
    roles: tuple[str, ...] = ("primary", "canary")
    max_windows: int = MAX_WINDOWS

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["columns"] = list(self.columns) if self.columns is not None else None
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorSpec:
        columns = data.get("columns")
        return cls(
            window_ms=int(data["window_ms"]),
            step_ms=int(data["step_ms"]),
            task=data.get("task"),
            target=data.get("target"),
            columns=tuple(columns) if columns is not None else None,
            reference=data.get("reference"),
            drift=dict(data.get("drift") or {}),
            roles=tuple(data.get("roles") or ("primary", "canary")),
            max_windows=int(data.get("max_windows", MAX_WINDOWS)),
        )

    def describe(self) -> str:
        """``1h windows every 15m`` or ``1h tumbling windows``."""
        size = format_duration(self.window_ms)
        if self.step_ms == self.window_ms:
            return f"{size} tumbling windows"
        return f"{size} windows every {format_duration(self.step_ms)}"


def build_spec(
    *,
    window: str | int | float,
    step: str | int | float | None = None,
    task: str | None = None,
    target: str | None = None,
    columns: Sequence[str] | None = None,
    reference: str | None = None,
    drift: Mapping[str, Any] | None = None,
    roles: Sequence[str] = ("primary", "canary"),
    max_windows: int = MAX_WINDOWS,
) -> MonitorSpec:
    """A checked ``MonitorSpec`` from user input; InvalidArgument says what is wrong."""
    window_ms = duration(window, "window")
    step_ms = window_ms if step is None else duration(step, "step")
    if window_ms < MIN_WINDOW_MS:
        raise InvalidArgument(f"A window of {window!r} is too short: the minimum is 1s.")
    if step_ms > window_ms:
        raise InvalidArgument(
            f"The step ({step!r}) is longer than the window ({window!r}): rows between windows "
            "would never be looked at. Give a step no longer than the window."
        )
    if window_ms % step_ms:
        raise InvalidArgument(
            f"The window ({window!r}) must be a whole number of steps ({step!r}), so every "
            "window starts on a step boundary."
        )
    if task is not None and task not in TASKS:
        raise InvalidArgument(f"Unknown task {task!r}: use one of {', '.join(TASKS)}.")
    if target is not None and (not isinstance(target, str) or not target):
        raise InvalidArgument("target must be the name of the label column of the reference data.")
    if columns is not None:
        columns = _names(columns, "columns")
    if reference is not None and (not isinstance(reference, str) or not reference.strip()):
        raise InvalidArgument("reference must name a dataset version, such as 'training@3'.")
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles or not roles:
        raise InvalidArgument(f"roles must be among {', '.join(ROLES)}; got {list(roles)}.")
    if not isinstance(max_windows, int) or not 1 <= max_windows <= 100_000:
        raise InvalidArgument("max_windows must be an integer between 1 and 100000.")
    return MonitorSpec(
        window_ms=window_ms,
        step_ms=step_ms,
        task=task,
        target=target,
        columns=tuple(columns) if columns is not None else None,
        reference=reference.strip() if reference is not None else None,
        drift=check_drift_options(drift or {}),
        roles=tuple(dict.fromkeys(roles)),
        max_windows=max_windows,
    )


def duration(value: str | int | float, what: str) -> int:
    """A duration option in milliseconds; the error names the option."""
    try:
        return parse_duration(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Invalid {what} {value!r}: {exc.message}") from None


def _names(values: Sequence[str], what: str) -> list[str]:
    if isinstance(values, str) or not all(isinstance(v, str) and v for v in values):
        raise InvalidArgument(f"{what} must be a list of column names.")
    return list(dict.fromkeys(values))


def _threshold(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(f"{what} must be a number, got {value!r}.")
    if value < 0:
        raise InvalidArgument(f"{what} must not be negative, got {value!r}.")
    return float(value)


def _method(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if value not in STATTESTS:
        raise InvalidArgument(
            f"Unknown drift test {value!r} for {what}: use one of {', '.join(sorted(STATTESTS))}."
        )
    return str(value)


def check_drift_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The drift settings a monitor passes to ``drift()``, checked and JSON-able."""
    unknown = sorted(set(options) - DRIFT_KEYS)
    if unknown:
        raise InvalidArgument(
            f"Unknown drift option(s) {unknown}: use {', '.join(sorted(DRIFT_KEYS))}."
        )
    checked: dict[str, Any] = {}
    if options.get("method") is not None:
        checked["method"] = _method(options["method"], "method")
    if options.get("threshold") is not None:
        checked["threshold"] = _threshold(options["threshold"], "threshold")
    if "drift_share" in options:
        share = _threshold(options["drift_share"], "drift_share")
        if share is None or share > 1:
            raise InvalidArgument("drift_share must be between 0 and 1.")
        checked["drift_share"] = share
    per_column: dict[str, dict[str, Any]] = {}
    for column, given in dict(options.get("per_column") or {}).items():
        if isinstance(given, str):
            given = {"method": given}
        if isinstance(given, ColumnOptions):
            given = {"method": given.method, "threshold": given.threshold}
        if not isinstance(given, Mapping) or set(given) - {"method", "threshold"}:
            raise InvalidArgument(
                f"per_column[{column!r}] must be a test name or "
                "{'method': ..., 'threshold': ...}."
            )
        entry = {
            "method": _method(given.get("method"), f"column {column!r}"),
            "threshold": _threshold(given.get("threshold"), f"threshold of column {column!r}"),
        }
        per_column[str(column)] = {k: v for k, v in entry.items() if v is not None}
    if per_column:
        checked["per_column"] = per_column
    return checked
