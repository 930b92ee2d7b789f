"""Which time windows a monitor evaluates, and durations as people write them.

Windows are aligned to the epoch (a 1h window always starts on the hour, UTC),
so two monitors with the same size see the same windows and a restarted
monitor resumes exactly where it stopped: it asks for the complete windows that
ended after the last one it evaluated. Tumbling windows step by their size;
sliding windows step by less and overlap.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from loopml.core.errors import InvalidArgument

# Largest first: the order a duration's parts must be written in, and formatted in.
UNITS_MS: dict[str, int] = {
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1_000,
    "ms": 1,
}
_FORMAT_UNITS = ("d", "h", "m", "s", "ms")  # 14 days reads better as "14d" than "2w"
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(ms|w|d|h|m|s)")
_EXAMPLES = "e.g. '500ms', '90s', '15m', '1h30m', '2d' or a number of seconds"


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidArgument(f"{name} must be a positive number of milliseconds, got {value!r}")
    return value


def window_bounds(
    *,
    after_ms: int,
    until_ms: int,
    size_ms: int,
    step_ms: int | None = None,
    limit: int = 1000,
) -> list[tuple[int, int]]:
    """The complete windows ``[start, end)`` with ``after_ms < end <= until_ms``, oldest first.

    ``start`` is a multiple of ``step_ms`` (``None``: the size, tumbling
    windows; smaller than the size: sliding windows). ``after_ms`` is the end
    of the last window already evaluated and ``until_ms`` is now, so a window
    still filling is never returned and none is returned twice. When more than
    ``limit`` windows qualify only the newest ``limit`` are returned: a monitor
    that was off for a year catches up on recent data instead of computing
    every window it missed. An empty list when ``until_ms <= after_ms``.
    """
    size = _positive_int(size_ms, "size_ms")
    step = size if step_ms is None else _positive_int(step_ms, "step_ms")
    if step > size:
        raise InvalidArgument(
            f"step_ms ({step}) must not exceed size_ms ({size}): windows would leave gaps; "
            "use a step equal to the size (tumbling) or smaller (sliding)"
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidArgument(f"limit must be an integer >= 1, got {limit!r}")
    for name, value in (("after_ms", after_ms), ("until_ms", until_ms)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{name} must be epoch milliseconds (an integer), got {value!r}")
    # start = k * step with after_ms < k * step + size <= until_ms
    first = (after_ms - size) // step + 1
    last = (until_ms - size) // step
    if last < first:
        return []
    first = max(first, last - limit + 1)
    return [(k * step, k * step + size) for k in range(first, last + 1)]


def parse_duration(text: str | int | float) -> int:
    """Milliseconds in a duration: ``"15m"``, ``"1h30m"``, ``"500ms"``, or seconds as a number.

    Units are ``w``, ``d``, ``h``, ``m``, ``s`` and ``ms``, each at most once,
    largest first; parts may be decimal (``"1.5h"``) but the total must be a
    whole, positive number of milliseconds. Upper-case units are refused
    rather than guessed (``"1M"`` could mean a month).
    """
    if isinstance(text, bool):
        raise InvalidArgument(f"a duration must be text or a number of seconds, got {text!r}")
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise InvalidArgument(f"a duration must be finite, got {text!r}")
        return _whole_ms(Decimal(str(text)) * 1000, text)
    if not isinstance(text, str):
        raise InvalidArgument(f"a duration must be text ({_EXAMPLES}), got {type(text).__name__}")
    body = text.strip()
    if not body:
        raise InvalidArgument(f"empty duration; write one like {_EXAMPLES}")
    total = Decimal(0)
    position = 0
    previous = math.inf
    while position < len(body):
        match = _PART.match(body, position)
        if match is None:
            raise InvalidArgument(
                f"cannot read duration {text!r} at {body[position:]!r}; {_EXAMPLES}"
            )
        number, unit = match.groups()
        if UNITS_MS[unit] >= previous:
            raise InvalidArgument(
                f"duration {text!r} repeats a unit or puts a smaller one first; "
                "write the parts largest first, e.g. '1h30m'"
            )
        previous = UNITS_MS[unit]
        try:
            total += Decimal(number) * UNITS_MS[unit]
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise InvalidArgument(f"cannot read the number {number!r} in {text!r}") from None
        position = match.end()
        while position < len(body) and body[position].isspace():
            position += 1
    return _whole_ms(total, text)


def _whole_ms(total: Decimal, given: object) -> int:
    if total <= 0:
        raise InvalidArgument(f"a duration must be positive, got {given!r}")
    if total != total.to_integral_value():
        raise InvalidArgument(
            f"duration {given!r} is not a whole number of milliseconds ({total}ms)"
        )
    return int(total)


def format_duration(ms: int) -> str:
    """``ms`` written the way ``parse_duration`` reads it back: ``5_400_000`` -> ``"1h30m"``.

    Days are the largest unit; zero is ``"0ms"`` (which ``parse_duration``
    refuses, as no window or interval can be empty).
    """
    if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
        raise InvalidArgument(f"a duration must be a whole number of milliseconds >= 0, got {ms!r}")
    if ms == 0:
        return "0ms"
    parts = []
    rest = ms
    for unit in _FORMAT_UNITS:
        count, rest = divmod(rest, UNITS_MS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
