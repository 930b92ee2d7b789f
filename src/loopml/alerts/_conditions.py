"""Alert conditions: a small text language over a monitor's window metrics.

A monitor computes, per time window, a flat ``dict[str, float | None]`` of metrics
(booleans as ``1.0``/``0.0``; ``None`` or absent when a metric could not be computed).
A condition such as ``"accuracy < 0.8 for 2 windows"`` says when that is worth an
alert. This module parses and prints conditions and decides whether one fires; it
stores and sends nothing.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from loopml.core.errors import InvalidArgument

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
MAX_TEXT = 256
MAX_WINDOWS = 1000

_EXAMPLE = "e.g. 'accuracy < 0.8 for 2 windows', 'dataset_drift' or 'not dataset_drift'"
_METRIC = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# "for" is a word of its own: metric names never contain whitespace, so this cannot
# cut a metric such as "for_rate" in two.
_FOR = re.compile(r"(?:^|\s+)for(?:\s+(?P<clause>.*))?$", re.IGNORECASE | re.DOTALL)
_WINDOWS = re.compile(r"(?P<n>\d+)\s+(?:consecutive\s+)?windows?", re.IGNORECASE)
_COMPARISON = re.compile(r"(?P<left>[^<>=!]*?)\s*(?P<op>[<>=!]+)\s*(?P<right>.*)", re.DOTALL)


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``, breached in ``windows`` consecutive windows to fire."""

    metric: str
    op: str
    threshold: float
    windows: int = 1

    def __post_init__(self) -> None:
        # Checked here as well as in the parser so a Condition built in code (or loaded
        # from storage) can always be printed back to text that parses.
        if not isinstance(self.metric, str) or not _METRIC.fullmatch(self.metric):
            raise InvalidArgument(
                f"Invalid alert metric name {self.metric!r}: use letters, digits and _ . : -,"
                f" starting with a letter or _ ({_EXAMPLE})."
            )
        if self.op not in OPS:
            raise InvalidArgument(
                f"Invalid alert operator {self.op!r}: use one of {', '.join(OPS)} ({_EXAMPLE})."
            )
        if not isinstance(self.threshold, int | float) or not math.isfinite(self.threshold):
            raise InvalidArgument(
                f"Invalid alert threshold {self.threshold!r}: use a finite number ({_EXAMPLE})."
            )
        if (
            not isinstance(self.windows, int)
            or isinstance(self.windows, bool)
            or not 1 <= self.windows <= MAX_WINDOWS
        ):
            raise InvalidArgument(
                f"Invalid number of windows {self.windows!r}: use 1 to {MAX_WINDOWS} ({_EXAMPLE})."
            )
        object.__setattr__(self, "threshold", float(self.threshold))


def _bad(text: str, what: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid alert condition {text!r}: {what}. Write it as {_EXAMPLE}.")


def parse_condition(text: str) -> Condition:
    """Parse the text a user writes for a rule into a :class:`Condition`.

    Accepted forms: ``metric OP number`` (``OP`` one of ``< <= > >= == !=``; ``true`` and
    ``false`` stand for 1 and 0), a bare ``metric`` (meaning ``== 1``, for flags such as
    ``dataset_drift``), ``not metric`` (``== 0``), each optionally followed by
    ``for N windows`` or ``for N consecutive windows``. Anything else raises
    :class:`InvalidArgument` naming the part that is wrong.
    """
    if not isinstance(text, str):
        raise InvalidArgument(
            f"An alert condition must be text, not {type(text).__name__} ({_EXAMPLE})."
        )
    if len(text) > MAX_TEXT:
        raise InvalidArgument(
            f"Invalid alert condition: {len(text)} characters, at most {MAX_TEXT} allowed;"
            f" write it shorter, {_EXAMPLE}."
        )
    stripped = text.strip()
    if not stripped:
        raise _bad(text, "it is empty")
    head, windows = _split_windows(text, stripped)
    match = _COMPARISON.fullmatch(head)
    if match is None:
        return _bare(text, head, windows)
    left, op, right = match["left"], match["op"], match["right"].strip()
    if not left:
        raise _bad(text, f"no metric name before {op!r}")
    if not _METRIC.fullmatch(left):
        raise _bad(text, f"{left!r} is not a metric name (letters, digits and _ . : -)")
    if op not in OPS:
        hint = " (use '==' to compare for equality)" if op == "=" else ""
        raise _bad(text, f"unknown operator {op!r}{hint}; use one of {', '.join(OPS)}")
    return Condition(left, op, _threshold(text, right), windows)


def _split_windows(text: str, stripped: str) -> tuple[str, int]:
    found = _FOR.search(stripped)
    if found is None:
        return stripped, 1
    clause = (found["clause"] or "").strip()
    parsed = _WINDOWS.fullmatch(clause)
    if parsed is None:
        raise _bad(
            text, f"'for {clause}' should read 'for N windows' or 'for N consecutive windows'"
        )
    windows = int(parsed["n"])
    if not 1 <= windows <= MAX_WINDOWS:
        raise _bad(text, f"{windows} windows is out of range; use 1 to {MAX_WINDOWS}")
    head = stripped[: found.start()].strip()
    if not head:
        raise _bad(text, "no metric before 'for'")
    return head, windows


def _bare(text: str, head: str, windows: int) -> Condition:
    words = head.split()
    threshold = 1.0
    if len(words) == 2 and words[0].lower() == "not":
        words, threshold = words[1:], 0.0
    if len(words) != 1:
        raise _bad(text, f"{head!r} needs an operator such as '<' between metric and threshold")
    if not _METRIC.fullmatch(words[0]):
        raise _bad(text, f"{words[0]!r} is not a metric name (letters, digits and _ . : -)")
    return Condition(words[0], "==", threshold, windows)


def _threshold(text: str, right: str) -> float:
    lowered = right.lower()
    if lowered in ("true", "false"):
        return 1.0 if lowered == "true" else 0.0
    if not right:
        raise _bad(text, "the threshold is missing after the operator")
    if not _NUMBER.fullmatch(right):
        raise _bad(text, f"threshold {right!r} is not a number (or true/false)")
    value = float(right)
    if not math.isfinite(value):
        raise _bad(text, f"threshold {right!r} is too large")
    return value


def _number(value: float) -> str:
    """Shortest text that reads back to the same float; whole numbers without '.0'."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def condition_text(c: Condition) -> str:
    """Canonical text of ``c``; ``parse_condition(condition_text(c)) == c``."""
    text = f"{c.metric} {c.op} {_number(c.threshold)}"
    if c.windows > 1:
        text += f" for {c.windows} consecutive windows"
    return text


def breached(c: Condition, value: float | None) -> bool:
    """Whether one window's value breaches ``c``.

    A metric that could not be computed (``None``, NaN) never breaches: an empty
    window is not evidence of a problem and must not fire an alert (alert on the
    ``rows`` metric to catch missing traffic).
    """
    if value is None:
        return False
    number = float(value)
    if math.isnan(number):
        return False
    return OPS[c.op](number, c.threshold)


def should_fire(
    c: Condition,
    recent: Sequence[Mapping[str, float | None]],
    *,
    window_end_ms: int,
    last_fired_window_end_ms: int | None,
    cooldown_ms: int,
) -> bool:
    """Whether the window just computed (``recent[-1]``, ending at ``window_end_ms``) fires.

    ``recent`` holds the metrics of the monitor's newest windows, oldest first. The rule
    fires when the last ``c.windows`` of them all breach (a window that does not, or
    whose metric is missing, breaks the streak; fewer windows than needed never fire)
    and the cooldown has passed since the last alert of this rule.

    The cooldown is measured in *window time*: ``window_end_ms`` minus the end of the
    window that last fired, not wall-clock time. A backfill that computes 100 past
    windows in one second therefore alerts as often as the live monitor would have,
    not 100 times, and the outcome depends only on the data, so it is reproducible.
    A window ending before the one that last fired does not fire again unless the
    cooldown is zero and it ends at the same time.
    """
    if cooldown_ms < 0:
        raise InvalidArgument(f"cooldown_ms must be 0 or more, not {cooldown_ms}.")
    if len(recent) < c.windows:
        return False
    if not all(breached(c, metrics.get(c.metric)) for metrics in recent[-c.windows :]):
        return False
    return last_fired_window_end_ms is None or (
        window_end_ms - last_fired_window_end_ms >= cooldown_ms
    )


def describe(c: Condition, value: float | None, monitor: str) -> str:
    """One sentence for people: what the metric is, the rule it breaks, where.

    For example ``"accuracy is 0.72 (< 0.8) for 2 consecutive windows of monitor
    fraud-daily"``.
    """
    shown = "missing" if value is None or math.isnan(value) else f"{float(value):.6g}"
    where = (
        f"for {c.windows} consecutive windows of monitor {monitor}"
        if c.windows > 1
        else f"in the latest window of monitor {monitor}"
    )
    return f"{c.metric} is {shown} ({c.op} {_number(c.threshold)}) {where}"
