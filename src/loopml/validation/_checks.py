"""The checks a suite runs: each looks at a DataFrame and says passed or why not.

A check never raises on the data it is given (a missing column, a wrong type,
an empty frame are failed results with a message); it raises only when it is
built with arguments that could never make sense.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidArgument
from loopml.validation._frame import KINDS, Kind, column_kind, numeric_values, plain

if TYPE_CHECKING:
    import pandas as pd

SHOWN_VALUES = 10  # unexpected values reported by an allowed-values check


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; ``observed`` is what was measured (JSON-able)."""

    name: str
    column: str | None
    passed: bool
    observed: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "column": self.column,
            "passed": self.passed,
            "observed": self.observed,
            "message": self.message,
        }


class Check(ABC):
    """A rule on a DataFrame. ``column`` is None for rules on the whole frame."""

    column: str | None = None

    @property
    @abstractmethod
    def name(self) -> str:
        """A short identifier, e.g. ``range(age)``."""

    @abstractmethod
    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        """(passed, observed, message) on a frame that has ``self.column``."""

    def run(self, frame: pd.DataFrame) -> CheckResult:
        if self.column is not None and self.column not in frame.columns:
            message = f"column {self.column!r} is missing from the data"
            return CheckResult(self.name, self.column, False, None, message)
        passed, observed, message = self._evaluate(frame)
        return CheckResult(self.name, self.column, passed, observed, message)


def _bound(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidArgument(f"{what} must be a number, not {value!r}.")
    return float(value)


def _bounds(low: Any, high: Any, what: str) -> tuple[float | None, float | None]:
    lo, hi = _bound(low, f"{what} min"), _bound(high, f"{what} max")
    if lo is None and hi is None:
        raise InvalidArgument(f"{what} needs a min, a max or both.")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidArgument(f"{what}: min {lo:g} is above max {hi:g}.")
    return lo, hi


def _describe(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"<= {hi:g}"
    if hi is None:
        return f">= {lo:g}"
    return f"in [{lo:g}, {hi:g}]"


class RowCount(Check):
    """The number of rows lies between ``min`` and ``max`` (either may be left out)."""

    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min, self.max = _bounds(min, max, "row_count")

    @property
    def name(self) -> str:
        return "row_count"

    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        rows = len(frame)
        ok = (self.min is None or rows >= self.min) and (self.max is None or rows <= self.max)
        want = _describe(self.min, self.max)
        if ok:
            return True, rows, f"{rows} rows, {want} as expected"
        return False, rows, f"data has {rows} rows, expected {want}"


class ColumnType(Check):
    """The column is of this kind: numeric, categorical, boolean or datetime."""

    def __init__(self, column: str, kind: str) -> None:
        if kind not in KINDS:
            raise InvalidArgument(f"type of {column!r} must be one of {list(KINDS)}, not {kind!r}.")
        self.column, self.kind = column, kind

    @property
    def name(self) -> str:
        return f"type({self.column})"

    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        kind: Kind = column_kind(frame[self.column])
        if kind == self.kind:
            return True, kind, f"column {self.column!r} is {kind}"
        return False, kind, f"column {self.column!r} is {kind}, expected {self.kind}"


class Range(Check):
    """Every non-missing value of a numeric column lies within [min, max]."""

    def __init__(self, column: str, min: float | None = None, max: float | None = None) -> None:
        self.column = column
        self.min, self.max = _bounds(min, max, f"range of {column!r}")

    @property
    def name(self) -> str:
        return f"range({self.column})"

    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        series = frame[self.column]
        kind = column_kind(series)
        if kind not in ("numeric", "boolean"):
            return False, None, f"column {self.column!r} is {kind}, a range needs numbers"
        values = numeric_values(series)
        want = _describe(self.min, self.max)
        if self.min is None:
            outside = f"above {self.max:g}"
        elif self.max is None:
            outside = f"below {self.min:g}"
        else:
            outside = f"outside [{self.min:g}, {self.max:g}]"
        if values.size == 0:
            return True, None, f"column {self.column!r} has no values to compare to {want}"
        low, high = float(values.min()), float(values.max())
        below = int((values < self.min).sum()) if self.min is not None else 0
        above = int((values > self.max).sum()) if self.max is not None else 0
        observed = {"min": plain(low), "max": plain(high)}
        if below + above == 0:
            return True, observed, f"column {self.column!r} values in [{low:g}, {high:g}]"
        return (
            False,
            observed,
            f"column {self.column!r} has {below + above} value(s) {outside}"
            f" (observed [{low:g}, {high:g}])",
        )


class Allowed(Check):
    """Every non-missing value of the column is one of ``values``."""

    def __init__(self, column: str, values: Sequence[Any]) -> None:
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            raise InvalidArgument(f"allowed values of {column!r} must be a non-empty list.")
        self.column, self.values = column, list(values)

    @property
    def name(self) -> str:
        return f"allowed({self.column})"

    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        present = frame[self.column].dropna()
        unexpected = present[~present.isin(self.values)]
        if unexpected.empty:
            return True, [], f"column {self.column!r} has only allowed values"
        counts = unexpected.value_counts()
        shown = [plain(v) for v in counts.index[:SHOWN_VALUES]]
        return (
            False,
            shown,
            f"column {self.column!r} has {len(unexpected)} value(s) not in the allowed list,"
            f" e.g. {shown}",
        )


class MaxMissing(Check):
    """At most this share (0 to 1) of the column's values are missing."""

    def __init__(self, column: str, share: float) -> None:
        limit = _bound(share, f"max_missing of {column!r}")
        if limit is None or not 0.0 <= limit <= 1.0:
            raise InvalidArgument(f"max_missing of {column!r} must be between 0 and 1.")
        self.column, self.share = column, limit

    @property
    def name(self) -> str:
        return f"max_missing({self.column})"

    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        rows = len(frame)
        share = float(frame[self.column].isna().sum()) / rows if rows else 0.0
        ok = share <= self.share
        verdict = "within" if ok else "above"
        return (
            ok,
            share,
            f"column {self.column!r} is {share:.2%} missing,"
            f" {verdict} the {self.share:.2%} allowed",
        )


class Unique(Check):
    """No non-missing value of the column appears twice."""

    def __init__(self, column: str) -> None:
        self.column = column

    @property
    def name(self) -> str:
        return f"unique({self.column})"

    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        present = frame[self.column].dropna()
        duplicated = present[present.duplicated(keep=False)]
        if duplicated.empty:
            return True, 0, f"column {self.column!r} values are unique"
        shown = [plain(v) for v in duplicated.drop_duplicates().iloc[:SHOWN_VALUES]]
        count = int(present.duplicated().sum())
        return False, count, f"column {self.column!r} has {count} duplicate value(s), e.g. {shown}"


class Custom(Check):
    """A Python rule: ``func(frame)`` returns True/False, or a message meaning failure.

    A rule that raises fails with the exception's text instead of stopping the
    suite, so one broken rule does not hide the other results.
    """

    def __init__(
        self, name: str, func: Callable[[pd.DataFrame], bool | str], column: str | None = None
    ) -> None:
        if not callable(func):
            raise InvalidArgument(f"custom check {name!r} needs a callable, not {func!r}.")
        self._name, self.func, self.column = name, func, column

    @property
    def name(self) -> str:
        return f"custom({self._name})"

    def _evaluate(self, frame: pd.DataFrame) -> tuple[bool, Any, str]:
        try:
            outcome = self.func(frame)
        except Exception as exc:  # a user's rule: report it, keep running the suite
            return False, None, f"{self._name} raised {type(exc).__name__}: {exc}"
        if isinstance(outcome, str):
            return False, outcome, f"{self._name}: {outcome}"
        if isinstance(outcome, bool) or type(outcome).__name__ == "bool_":
            ok = bool(outcome)
            return ok, ok, f"{self._name} {'passed' if ok else 'failed'}"
        return False, None, f"{self._name} returned {outcome!r}, expected a bool or a message"
