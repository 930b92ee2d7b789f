"""Automatic test choice (Evidently's defaults), overrides and the dataset verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument
from loopml.monitoring import ColumnOptions, drift

RNG = np.random.default_rng(11)


def _frames(ref: object, cur: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur})


@pytest.mark.parametrize(
    ("rows", "values", "expected"),
    [
        (1000, None, "ks"),
        (1001, None, "wasserstein"),
        (500, [1, 2, 3], "chisquare"),
        (500, [1.5, 2.5], "z"),
        (500, [1, 2], "z"),
        (500, [1, 2, 3, 4, 5], "chisquare"),
        (500, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "ks"),
        (500, list(range(10)), "chisquare"),
        (500, list(range(11)), "ks"),
        (2000, [1, 2, 3, 4], "jensenshannon"),
        (500, ["a", "b", "c"], "chisquare"),
        (500, ["a", "b"], "z"),
        (500, [True, False], "z"),
        (2000, ["a", "b"], "jensenshannon"),
        (2000, [f"c{i}" for i in range(40)], "jensenshannon"),
    ],
)
def test_automatic_choice(rows: int, values: list[object] | None, expected: str) -> None:
    if values is None:
        frame = pd.DataFrame({"x": RNG.normal(size=rows)})
    else:
        frame = pd.DataFrame({"x": [values[i % len(values)] for i in range(rows)]})
    result = drift(frame, frame.sample(frac=0.5, random_state=1))
    assert result["x"].method == expected
    assert result["x"].status == "ok"
    assert not result["x"].drifted


def test_reference_size_is_counted_after_dropping_missing_values() -> None:
    ref = np.concatenate([RNG.normal(size=900), np.full(600, np.nan)])
    result = drift(*_frames(ref, RNG.normal(size=800)))
    assert result["x"].method == "ks"
    assert "600 and 0 missing dropped" in result["x"].detail


def test_unique_values_are_counted_over_both_sides() -> None:
    result = drift(*_frames(["a", "b"] * 50, ["a", "b", "c"] * 30))
    assert result["x"].method == "chisquare"
    assert result["x"].drifted


def test_declared_types_override_inference() -> None:
    ref = pd.DataFrame({"code": np.arange(2000) % 50, "score": RNG.normal(size=2000)})
    result = drift(ref, ref, categorical=["code"])
    assert (result["code"].column_type, result["code"].method) == ("categorical", "jensenshannon")
    assert result["score"].column_type == "numerical"


def _shifted() -> tuple[pd.DataFrame, pd.DataFrame]:
    n = 3000
    ref = pd.DataFrame({f"n{i}": RNG.normal(size=n) for i in range(4)})
    cur = pd.DataFrame({f"n{i}": RNG.normal(size=n) for i in range(4)})
    cur["n0"] += 1.0
    cur["n1"] += 1.0
    return ref, cur


def test_global_method_and_threshold_apply_to_every_column() -> None:
    ref, cur = _shifted()
    result = drift(ref, cur, method="psi", threshold=0.3)
    assert {c.method for c in result.columns} == {"psi"}
    assert {c.threshold for c in result.columns} == {0.3}


def test_per_column_threshold_does_not_reset_the_global_one() -> None:
    ref, cur = _shifted()
    result = drift(ref, cur, threshold=0.2, per_column={"n0": {"threshold": 5.0}})
    assert result["n0"].threshold == 5.0 and not result["n0"].drifted
    assert [result[c].threshold for c in ("n1", "n2", "n3")] == [0.2, 0.2, 0.2]
    assert result["n1"].drifted


def test_per_column_method_uses_the_global_threshold_else_its_default() -> None:
    ref, cur = _shifted()
    result = drift(ref, cur, per_column={"n0": "psi", "n1": ColumnOptions(method="ks")})
    assert (result["n0"].method, result["n0"].threshold) == ("psi", 0.1)
    assert (result["n1"].method, result["n1"].threshold) == ("ks", 0.05)
    assert result["n2"].method == "wasserstein"
    with_global = drift(ref, cur, threshold=0.01, per_column={"n1": "ks"})
    assert with_global["n1"].threshold == 0.01


def test_dataset_drift_when_share_reaches_drift_share() -> None:
    ref, cur = _shifted()
    result = drift(ref, cur)
    assert result.drifted_columns == ["n0", "n1"]
    assert (result.share, result.dataset_drift) == (0.5, True)
    assert not drift(ref, cur, drift_share=0.75).dataset_drift
    assert not drift(ref, ref).dataset_drift


def test_unknown_method_names_are_rejected() -> None:
    ref, cur = _shifted()
    with pytest.raises(InvalidArgument, match="unknown drift method 'kss'"):
        drift(ref, cur, method="kss")
    with pytest.raises(InvalidArgument, match="per_column"):
        drift(ref, cur, per_column={"n0": {"methd": "ks"}})


def test_per_column_method_that_does_not_fit_the_type_is_rejected() -> None:
    ref = pd.DataFrame({"c": ["a", "b"] * 100})
    with pytest.raises(InvalidArgument, match="'ks' does not apply to categorical"):
        drift(ref, ref, per_column={"c": "ks"})


def test_global_method_that_does_not_fit_a_column_is_reported_for_that_column() -> None:
    ref = pd.DataFrame({"c": ["a", "b"] * 100, "n": RNG.normal(size=200)})
    result = drift(ref, ref, method="ks")
    assert result["c"].status == "error" and "does not apply" in result["c"].detail
    assert result["n"].method == "ks" and result.number_of_tested_columns == 1


def test_integer_codes_with_few_values_are_categorical() -> None:
    ref = pd.DataFrame({"rating": np.arange(3000) % 10, "count": np.arange(3000) % 11})
    result = drift(ref, ref)
    assert result["rating"].column_type == "categorical"
    assert result["count"].column_type == "numerical"


def test_datetime_columns_are_left_out_unless_asked_for() -> None:
    ref = pd.DataFrame(
        {"at": pd.date_range("2026-01-01", periods=300, freq="h"), "x": RNG.normal(size=300)}
    )
    assert [c.column for c in drift(ref, ref).columns] == ["x"]
    asked = drift(ref, ref, columns=["at", "x"])
    assert asked["at"].status == "error" and "have no drift test" in asked["at"].detail
    assert asked.number_of_tested_columns == 1
