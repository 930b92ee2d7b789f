"""Epoch-aligned monitor windows and durations as people write them."""

from __future__ import annotations

from typing import Any

import pytest

from loopml.core.errors import InvalidArgument
from loopml.monitoring._windows import format_duration, parse_duration, window_bounds

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR


def test_tumbling_windows_are_aligned_to_the_epoch() -> None:
    now = 10 * HOUR + 25 * MIN
    got = window_bounds(after_ms=7 * HOUR + 5 * MIN, until_ms=now, size_ms=HOUR)
    assert got == [(7 * HOUR, 8 * HOUR), (8 * HOUR, 9 * HOUR), (9 * HOUR, 10 * HOUR)]


def test_sliding_windows_step_by_less_than_their_size() -> None:
    got = window_bounds(after_ms=HOUR, until_ms=2 * HOUR, size_ms=HOUR, step_ms=15 * MIN)
    assert got == [(q * 15 * MIN, q * 15 * MIN + HOUR) for q in range(1, 5)]
    assert all(start % (15 * MIN) == 0 for start, _ in got)


def test_edges_end_at_until_is_included_end_at_after_is_not() -> None:
    got = window_bounds(after_ms=2 * HOUR, until_ms=4 * HOUR, size_ms=HOUR)
    assert got == [(2 * HOUR, 3 * HOUR), (3 * HOUR, 4 * HOUR)]
    # One millisecond less and the window ending at 4h is still filling.
    assert window_bounds(after_ms=2 * HOUR, until_ms=4 * HOUR - 1, size_ms=HOUR)[-1][1] == 3 * HOUR
    # Resuming from the last end returns nothing twice.
    assert window_bounds(after_ms=4 * HOUR, until_ms=4 * HOUR, size_ms=HOUR) == []
    assert window_bounds(after_ms=5 * HOUR, until_ms=4 * HOUR, size_ms=HOUR) == []


def test_negative_times_floor_correctly() -> None:
    got = window_bounds(after_ms=-2 * HOUR, until_ms=-1, size_ms=HOUR, step_ms=40 * MIN)
    assert got == [(m * MIN, (m + 60) * MIN) for m in (-160, -120, -80)]


def test_limit_keeps_the_newest_windows() -> None:
    got = window_bounds(after_ms=0, until_ms=365 * DAY, size_ms=HOUR, limit=3)
    assert got == [
        (365 * DAY - 3 * HOUR + i * HOUR, 365 * DAY - 2 * HOUR + i * HOUR) for i in range(3)
    ]
    assert len(window_bounds(after_ms=0, until_ms=365 * DAY, size_ms=HOUR)) == 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size_ms": 0}, "size_ms must be a positive"),
        ({"size_ms": -5}, "size_ms must be a positive"),
        ({"size_ms": 1.5}, "size_ms must be a positive"),
        ({"step_ms": 0}, "step_ms must be a positive"),
        ({"step_ms": 2 * HOUR}, "must not exceed size_ms"),
        ({"limit": 0}, "limit must be an integer >= 1"),
        ({"after_ms": "yesterday"}, "after_ms must be epoch milliseconds"),
        ({"until_ms": True}, "until_ms must be epoch milliseconds"),
    ],
)
def test_bad_window_arguments(kwargs: dict[str, Any], message: str) -> None:
    call: dict[str, Any] = {"after_ms": 0, "until_ms": DAY, "size_ms": HOUR, **kwargs}
    with pytest.raises(InvalidArgument, match=message):
        window_bounds(**call)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("15m", 15 * MIN),
        ("1h", HOUR),
        ("2d", 2 * DAY),
        ("90s", 90_000),
        ("500ms", 500),
        ("1h30m", 90 * MIN),
        ("1h 30m", 90 * MIN),
        ("1.5h", 90 * MIN),
        ("1w", 7 * DAY),
        ("0.1s", 100),
        (90, 90_000),
        (0.25, 250),
    ],
)
def test_parse_duration(text: str | int | float, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("ms", [1, 500, 1_000, 90_000, 90 * MIN, DAY + 1, 14 * DAY + HOUR + 7])
def test_format_round_trips(ms: int) -> None:
    assert parse_duration(format_duration(ms)) == ms


def test_format_uses_largest_units_first() -> None:
    assert format_duration(90 * MIN) == "1h30m"
    assert format_duration(DAY + 1_500) == "1d1s500ms"
    assert format_duration(0) == "0ms"
    with pytest.raises(InvalidArgument, match=">= 0"):
        format_duration(-1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty duration"),
        ("15", "cannot read duration"),
        ("15 minutes", "cannot read duration"),
        ("1M", "cannot read duration"),
        ("-5m", "cannot read duration"),
        ("30m1h", "largest first"),
        ("1h1h", "largest first"),
        ("0s", "must be positive"),
        (0, "must be positive"),
        (-3.0, "must be positive"),
        ("0.5ms", "whole number of milliseconds"),
        (float("inf"), "must be finite"),
        (True, "text or a number"),
        (None, "must be text"),
    ],
)
def test_bad_durations(text: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_duration(text)
