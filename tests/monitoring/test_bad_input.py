"""Imperfect windows give a result per column; caller mistakes raise InvalidArgument."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from loopml.core.errors import InvalidArgument
from loopml.monitoring import drift

RNG = np.random.default_rng(3)


def _reference(rows: int = 400) -> pd.DataFrame:
    return pd.DataFrame(
        {"num": RNG.normal(size=rows), "cat": np.array(["a", "b", "c"])[np.arange(rows) % 3]}
    )


def test_column_missing_from_current_is_an_error_for_that_column_only() -> None:
    ref = _reference()
    result = drift(ref, ref[["num"]])
    assert result["cat"].status == "error"
    assert "missing from the current data" in result["cat"].detail
    assert result["num"].status == "ok" and result.number_of_tested_columns == 1


@pytest.mark.parametrize("side", ["reference", "current"])
def test_all_nan_column(side: str) -> None:
    ref, cur = _reference(), _reference()
    (ref if side == "reference" else cur)["num"] = np.nan
    result = drift(ref, cur)
    assert result["num"].status == "error"
    assert result["num"].detail == f"no non-missing values in the {side} data"
    assert not result["num"].drifted


def test_all_missing_window_typed_object_is_not_a_type_change() -> None:
    ref = _reference()
    result = drift(ref, ref.assign(num=pd.Series([None] * len(ref), dtype=object)))
    assert result["num"].detail == "no non-missing values in the current data"


def test_infinite_values_are_dropped_like_missing_ones() -> None:
    ref = _reference()
    cur = ref.copy()
    cur.loc[:9, "num"] = np.inf
    result = drift(ref, cur)
    assert result["num"].status == "ok" and "0 and 10 missing dropped" in result["num"].detail


def test_constant_columns() -> None:
    small = pd.DataFrame({"k": np.ones(100)})
    assert drift(small, small)["k"].score == 1.0
    big_ref = pd.DataFrame({"k": np.ones(3000)})
    moved = drift(big_ref, pd.DataFrame({"k": RNG.normal(5, 1, size=3000)}))
    assert moved["k"].status == "ok" and moved["k"].drifted
    assert moved["k"].score is not None and np.isfinite(moved["k"].score)


def test_empty_current_window() -> None:
    ref = _reference()
    result = drift(ref, ref.iloc[:0])
    assert {c.status for c in result.columns} == {"error"}
    assert result["num"].detail == "the current data has no rows"
    assert (result.share, result.dataset_drift, result.number_of_tested_columns) == (0.0, False, 0)


def test_type_change_is_reported_for_the_column() -> None:
    ref = _reference()
    cur = ref.assign(num=ref["num"].astype(str))
    result = drift(ref, cur)
    assert result["num"].status == "error" and "type changed" in result["num"].detail


def test_unknown_columns_are_rejected() -> None:
    ref = _reference()
    with pytest.raises(InvalidArgument, match=r"\['nope'\] are not in the reference"):
        drift(ref, ref, columns=["num", "nope"])
    with pytest.raises(InvalidArgument, match="not in the reference"):
        drift(ref, ref, per_column={"nope": "psi"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drift_share": 1.5}, "drift_share must be between 0 and 1"),
        ({"threshold": -1}, "must be a number >= 0"),
        ({"categorical": ["num"], "numerical": ["num"]}, "both categorical and numerical"),
        ({"numerical": ["cat"]}, "declared numerical but holds"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    ref = _reference()
    with pytest.raises(InvalidArgument, match=message):
        drift(ref, ref, **kwargs)  # type: ignore[arg-type]


def test_not_a_frame_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="pandas DataFrame or a pyarrow Table"):
        drift([1, 2, 3], _reference())


def test_pyarrow_tables_are_accepted() -> None:
    ref = _reference()
    result = drift(pa.Table.from_pandas(ref), pa.Table.from_pandas(ref))
    assert [c.method for c in result.columns] == ["ks", "chisquare"]


def test_to_dict_is_strict_json() -> None:
    ref = _reference()
    result = drift(ref, ref[["num"]])
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["columns"]["cat"]["status"] == "error"
    assert data["columns"]["num"]["method"] == "ks"
    assert data["dataset_drift"] is False
