"""Alert conditions: the text language, breaches and when a rule fires."""

from __future__ import annotations

import math

import pytest

from loopml.alerts._conditions import (
    Condition,
    breached,
    condition_text,
    describe,
    parse_condition,
    should_fire,
)
from loopml.core.errors import InvalidArgument


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accuracy < 0.8", Condition("accuracy", "<", 0.8)),
        ("accuracy < 0.8 for 2 windows", Condition("accuracy", "<", 0.8, 2)),
        ("accuracy<0.8 for 2 consecutive windows", Condition("accuracy", "<", 0.8, 2)),
        ("accuracy < 0.8 FOR 1 window", Condition("accuracy", "<", 0.8, 1)),
        ("dataset_drift", Condition("dataset_drift", "==", 1.0)),
        ("not dataset_drift", Condition("dataset_drift", "==", 0.0)),
        ("dataset_drift for 3 windows", Condition("dataset_drift", "==", 1.0, 3)),
        ("not dataset_drift for 3 windows", Condition("dataset_drift", "==", 0.0, 3)),
        ("drift.age", Condition("drift.age", "==", 1.0)),
        ("drift.user-id:v2", Condition("drift.user-id:v2", "==", 1.0)),
        ("drift_score.age <= 0.05", Condition("drift_score.age", "<=", 0.05)),
        ("rows == 0", Condition("rows", "==", 0.0)),
        ("rows != 0", Condition("rows", "!=", 0.0)),
        ("latency_p95_ms > 250", Condition("latency_p95_ms", ">", 250.0)),
        ("error_rate >= 1e-2", Condition("error_rate", ">=", 0.01)),
        ("delta > -.5", Condition("delta", ">", -0.5)),
        ("dataset_drift == true", Condition("dataset_drift", "==", 1.0)),
        ("dataset_drift == FALSE", Condition("dataset_drift", "==", 0.0)),
        ("  accuracy   <   0.8   for   2   windows  ", Condition("accuracy", "<", 0.8, 2)),
        ("for_rate > 1", Condition("for_rate", ">", 1.0)),
        ("accuracy < 0.8 for 1000 windows", Condition("accuracy", "<", 0.8, 1000)),
    ],
)
def test_parse_accepts_every_documented_form(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    "condition",
    [
        Condition("accuracy", "<", 0.8),
        Condition("accuracy", "<", 0.8, 2),
        Condition("dataset_drift", "==", 1.0, 3),
        Condition("drift_score.age", "<=", 0.05),
        Condition("rows", "==", 0.0),
        Condition("x", "!=", -12.5),
        Condition("x", ">", 1e-7),
        Condition("x", ">=", 1e20),
        Condition("x", "<", 0.1 + 0.2),
    ],
)
def test_condition_text_round_trips(condition: Condition) -> None:
    text = condition_text(condition)
    assert parse_condition(text) == condition
    assert condition_text(parse_condition(text)) == text


def test_condition_text_is_canonical() -> None:
    assert condition_text(parse_condition("dataset_drift")) == "dataset_drift == 1"
    assert condition_text(parse_condition("accuracy<0.8 for 2 windows")) == (
        "accuracy < 0.8 for 2 consecutive windows"
    )


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("accuracy =< 0.8", "'=<'"),
        ("accuracy = 0.8", "'=='"),
        ("accuracy < high", "'high'"),
        ("accuracy <", "missing"),
        ("< 0.8", "no metric"),
        ("1abc < 2", "'1abc'"),
        ("my metric < 2", "'my metric'"),
        ("accuracy 0.8", "operator"),
        ("not accuracy < 0.8", "'not accuracy'"),
        ("accuracy < 0.8 for two windows", "for two windows"),
        ("accuracy < 0.8 for 2", "for 2"),
        ("accuracy < 0.8 for", "for N windows"),
        ("accuracy < 0.8 for 0 windows", "out of range"),
        ("accuracy < 0.8 for 1001 windows", "out of range"),
        ("for 2 windows", "no metric"),
        ("accuracy < nan", "'nan'"),
        ("accuracy < inf", "'inf'"),
        ("accuracy < 1e999", "too large"),
        ("accuracy < 0.8 < 0.9", "'0.8 < 0.9'"),
        ("a" * 257, "at most 256"),
    ],
)
def test_bad_text_says_what_is_wrong_and_shows_an_example(text: str, names: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_condition(text)
    assert names in caught.value.message
    assert "accuracy < 0.8 for 2 windows" in caught.value.message


def test_non_text_condition_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"must be text.*accuracy < 0\.8"):
        parse_condition(0.8)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"metric": "bad metric", "op": "<", "threshold": 1.0}, "metric name"),
        ({"metric": "x", "op": "=", "threshold": 1.0}, "operator"),
        ({"metric": "x", "op": "<", "threshold": math.nan}, "finite"),
        ({"metric": "x", "op": "<", "threshold": 1.0, "windows": 0}, "windows"),
        ({"metric": "x", "op": "<", "threshold": 1.0, "windows": 1001}, "windows"),
    ],
)
def test_condition_built_in_code_is_validated(kwargs: dict, names: str) -> None:
    with pytest.raises(InvalidArgument, match=names):
        Condition(**kwargs)


def test_breached_compares_and_ignores_missing_values() -> None:
    below = Condition("accuracy", "<", 0.8)
    assert breached(below, 0.72)
    assert not breached(below, 0.8)
    assert not breached(below, None)
    assert not breached(below, math.nan)
    assert breached(Condition("rows", "==", 0.0), 0.0)
    assert not breached(Condition("rows", "!=", 0.0), None)
    assert breached(Condition("x", "!=", 0.0), 3.0)
    assert breached(Condition("x", ">=", 2.0), 2.0)
    assert not breached(Condition("x", ">", 2.0), 2.0)
    assert breached(Condition("x", "<=", 2.0), 2.0)


def _fire(c: Condition, recent: list[dict], **kwargs: int | None) -> bool:
    options: dict = {"window_end_ms": 10_000, "last_fired_window_end_ms": None, "cooldown_ms": 0}
    options.update(kwargs)
    return should_fire(c, recent, **options)


def test_should_fire_needs_consecutive_breaching_windows() -> None:
    rule = parse_condition("accuracy < 0.8 for 2 windows")
    assert _fire(rule, [{"accuracy": 0.9}, {"accuracy": 0.7}, {"accuracy": 0.6}])
    assert not _fire(rule, [{"accuracy": 0.7}, {"accuracy": 0.9}])
    assert not _fire(rule, [{"accuracy": 0.6}, {"accuracy": 0.7}, {"accuracy": 0.95}])
    # Fewer windows than needed never fire, even if all of them breach.
    assert not _fire(rule, [{"accuracy": 0.1}])
    assert not _fire(rule, [])


@pytest.mark.parametrize("gap", [{"accuracy": None}, {"accuracy": math.nan}, {}, {"rows": 0.0}])
def test_a_window_without_the_metric_breaks_the_streak(gap: dict) -> None:
    rule = parse_condition("accuracy < 0.8 for 2 windows")
    assert not _fire(rule, [{"accuracy": 0.5}, gap, {"accuracy": 0.5}])
    assert _fire(rule, [{"accuracy": 0.5}, gap, {"accuracy": 0.5}, {"accuracy": 0.5}])


def test_bare_flag_fires_on_one() -> None:
    rule = parse_condition("dataset_drift")
    assert _fire(rule, [{"dataset_drift": 1.0}])
    assert not _fire(rule, [{"dataset_drift": 0.0}])
    assert _fire(parse_condition("not dataset_drift"), [{"dataset_drift": 0.0}])


def test_cooldown_is_measured_in_window_time() -> None:
    rule = parse_condition("dataset_drift")
    hour = 3_600_000
    breach = [{"dataset_drift": 1.0}]
    # A backfill of hourly windows with a 6 h cooldown fires once every 6 windows,
    # however fast the windows are computed.
    last: int | None = None
    fired = []
    for end in range(hour, 25 * hour, hour):
        if should_fire(
            rule, breach, window_end_ms=end, last_fired_window_end_ms=last, cooldown_ms=6 * hour
        ):
            fired.append(end // hour)
            last = end
    assert fired == [1, 7, 13, 19]


def test_cooldown_boundaries() -> None:
    rule = parse_condition("dataset_drift")
    breach = [{"dataset_drift": 1.0}]
    assert _fire(rule, breach, window_end_ms=5000, last_fired_window_end_ms=4000, cooldown_ms=1000)
    assert not _fire(
        rule, breach, window_end_ms=4999, last_fired_window_end_ms=4000, cooldown_ms=1000
    )
    # A window older than the one that last fired does not fire it again.
    assert not _fire(
        rule, breach, window_end_ms=3000, last_fired_window_end_ms=4000, cooldown_ms=1000
    )
    assert _fire(rule, breach, window_end_ms=3000, last_fired_window_end_ms=None, cooldown_ms=10)
    # Cooldown over but no breach: no alert.
    assert not _fire(
        rule,
        [{"dataset_drift": 0.0}],
        window_end_ms=9000,
        last_fired_window_end_ms=1000,
        cooldown_ms=10,
    )


def test_negative_cooldown_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="cooldown_ms"):
        _fire(parse_condition("rows == 0"), [{"rows": 0.0}], cooldown_ms=-1)


def test_describe_reads_like_a_sentence() -> None:
    two = parse_condition("accuracy < 0.8 for 2 windows")
    assert describe(two, 0.72, "fraud-daily") == (
        "accuracy is 0.72 (< 0.8) for 2 consecutive windows of monitor fraud-daily"
    )
    one = parse_condition("rows == 0")
    assert describe(one, 0.0, "m") == "rows is 0 (== 0) in the latest window of monitor m"
    assert describe(one, None, "m").startswith("rows is missing")
