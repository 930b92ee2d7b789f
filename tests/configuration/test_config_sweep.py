"""Multi-run sweep expansion: order, splitting rules, range/choice, the cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.configuration import compose, expand_sweep, parse_override
from loopml.core.errors import InvalidArgument


def test_cartesian_order_first_override_slowest() -> None:
    assert expand_sweep(["train.lr=0.01,0.1", "model=rf,xgb", "seed=1"]) == [
        ["train.lr=0.01", "model=rf", "seed=1"],
        ["train.lr=0.01", "model=xgb", "seed=1"],
        ["train.lr=0.1", "model=rf", "seed=1"],
        ["train.lr=0.1", "model=xgb", "seed=1"],
    ]


def test_no_sweep_is_one_run() -> None:
    assert expand_sweep(["a=1", "+b=[1,2]", "~c"]) == [["a=1", "+b=[1,2]", "~c"]]
    assert expand_sweep([]) == [[]]


def test_brackets_and_quotes_do_not_split() -> None:
    runs = expand_sweep(["a=[1,2],[3]", "b='x,y',\"p,q\",z", "c={k: 1, j: 2}"])
    assert [run[0] for run in runs[::3]] == ["a=[1,2]", "a=[3]"]
    assert [run[1] for run in runs[:3]] == ["b='x,y'", 'b="p,q"', "b=z"]
    assert {run[2] for run in runs} == {"c={k: 1, j: 2}"}
    assert len(runs) == 6
    # each emitted override parses back to the intended value
    assert parse_override(runs[0][0]).value == [1, 2]
    assert parse_override(runs[0][1]).value == "x,y"


def test_prefixes_are_kept() -> None:
    assert expand_sweep(["+a=1,2", "++b=x,y"])[-1] == ["+a=2", "++b=y"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("range(1,4)", ["1", "2", "3"]),
        ("range(3)", ["0", "1", "2"]),
        ("range(0,1,0.25)", ["0.0", "0.25", "0.5", "0.75"]),
        ("range(0, 0.3, 0.1)", ["0.0", "0.1", "0.2"]),
        ("range(5,0,-2)", ["5", "3", "1"]),
        ("choice(a,b)", ["a", "b"]),
        ("choice([1,2], 'x,y')", ["[1,2]", "'x,y'"]),
        ("range(1,3),10", ["1", "2", "10"]),
    ],
)
def test_range_and_choice(value: str, expected: list[str]) -> None:
    assert expand_sweep([f"k={value}"]) == [[f"k={item}"] for item in expected]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("range(0)", "gives no value"),
        ("range(3,1)", "gives no value"),
        ("range(1,2,0)", "non-zero step"),
        ("range(a)", "is not valid"),
        ("range(1,2,3,4)", "is not valid"),
        ("range(1", "not closed"),
        ("choice()", "at least one value"),
    ],
)
def test_bad_sweep_functions(value: str, problem: str) -> None:
    with pytest.raises(InvalidArgument, match=problem):
        expand_sweep([f"k={value}"])


def test_cap_reports_the_count_before_expanding() -> None:
    with pytest.raises(InvalidArgument, match=r"has 200 combinations \(2 x 100\).*max_runs=100"):
        expand_sweep(["a=1,2", "b=range(100)"], max_runs=100)
    assert len(expand_sweep(["a=1,2", "b=range(50)"], max_runs=100)) == 100


def test_malformed_and_wrong_types() -> None:
    with pytest.raises(InvalidArgument, match="accepted forms"):
        expand_sweep(["lr"])
    with pytest.raises(InvalidArgument, match="not one string"):
        expand_sweep("a=1,2")


def test_each_run_composes(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "rf.yaml").write_text("kind: forest\n")
    (tmp_path / "model" / "xgb.yaml").write_text("kind: boosting\n")
    (tmp_path / "config.yaml").write_text("defaults: [{model: rf}, _self_]\nlr: 0.1\n")
    runs = expand_sweep(["model=rf,xgb", "lr=0.01,0.1"])
    configs = [compose(tmp_path, overrides=run) for run in runs]
    assert [(c.choices["model"], c["lr"]) for c in configs] == [
        ("rf", 0.01),
        ("rf", 0.1),
        ("xgb", 0.01),
        ("xgb", 0.1),
    ]
    assert configs[2]["model"] == {"kind": "boosting"}
