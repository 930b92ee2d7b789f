"""Signature enforcement: what a caller may pass, what is converted, what is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument
from loopml.models import ColSpec, Schema, TensorSpec
from loopml.models._enforce import make_plan


def _plan(**columns: str):
    return make_plan(Schema(tuple(ColSpec(t, n) for n, t in columns.items())))


def test_matching_frame_is_passed_through_without_a_copy() -> None:
    plan = _plan(a="long", b="double", c="boolean")
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5], "c": [True, False]})
    assert plan(frame) is frame


def test_columns_are_reordered_to_the_signature() -> None:
    plan = _plan(a="long", b="double")
    out = plan(pd.DataFrame({"b": [0.5], "a": [3]}))
    assert out.columns.tolist() == ["a", "b"]
    assert out["a"].tolist() == [3]


def test_missing_column_is_named() -> None:
    plan = _plan(age="long", income="double")
    with pytest.raises(InvalidArgument, match="Missing column 'income'"):
        plan(pd.DataFrame({"age": [30]}))


def test_extra_column_is_named() -> None:
    plan = _plan(age="long")
    with pytest.raises(InvalidArgument, match="Unexpected column 'zip'"):
        plan(pd.DataFrame({"age": [30], "zip": ["75001"]}))


def test_optional_column_may_be_missing() -> None:
    plan = make_plan(Schema((ColSpec("long", "a"), ColSpec("double", "b", required=False))))
    assert plan(pd.DataFrame({"a": [1]})).columns.tolist() == ["a"]


@pytest.mark.parametrize(
    ("declared", "values", "dtype"),
    [
        ("double", [1, 2], np.int64),
        ("double", [1, 2], np.int32),
        ("double", [0.5, 2.0], np.float32),
        ("long", [1, 2], np.int32),
        ("long", [1, 2], np.uint16),
        ("long", [1.0, 2.0], np.float64),  # whole numbers: nothing is lost
        ("integer", [1, 2], np.int64),  # in range: nothing is lost
        ("float", [0.5, 2.25], np.float64),
        ("float", [1, 2], np.int64),
    ],
)
def test_safe_casts_are_accepted(declared: str, values: list, dtype: type) -> None:
    out = _plan(x=declared)(pd.DataFrame({"x": np.array(values, dtype=dtype)}))
    expected = {"double": np.float64, "long": np.int64, "integer": np.int32, "float": np.float32}
    assert out["x"].dtype == expected[declared]
    assert out["x"].tolist() == pytest.approx([float(v) for v in values])


@pytest.mark.parametrize(
    ("declared", "column", "message"),
    [
        ("long", pd.Series([1.5, 2.0]), "fractions"),
        ("long", pd.Series([1.0, np.nan]), "missing values"),
        ("long", pd.Series(["1", "2"]), "holds strings"),
        ("double", pd.Series(["1.5", "2"]), "holds strings"),
        ("double", pd.Series([True, False]), "booleans"),
        ("integer", pd.Series([2**40, 1]), "outside the range"),
        ("float", pd.Series([1e300, 1.0]), "too large"),
        ("boolean", pd.Series([1, 0]), "int64 values"),
        ("string", pd.Series([1, 2]), "int64 values"),
        ("string", pd.Series(["a", 3], dtype=object), "mixed"),
        ("datetime", pd.Series(["not a date"]), "ISO 8601"),
        ("binary", pd.Series(["text"]), "strings"),
    ],
)
def test_unsafe_casts_are_refused_naming_the_column(
    declared: str, column: pd.Series, message: str
) -> None:
    with pytest.raises(InvalidArgument, match=f"Column 'x'.*{message}"):
        _plan(x=declared)(pd.DataFrame({"x": column}))


def test_strings_and_datetimes_are_checked_and_parsed() -> None:
    plan = _plan(name="string", when="datetime")
    out = plan(pd.DataFrame({"name": ["a", "b"], "when": ["2024-01-02T03:04:05", "2024-02-01"]}))
    assert out["name"].tolist() == ["a", "b"]
    assert out["when"].dtype.kind == "M"
    assert out["when"].iloc[0] == pd.Timestamp("2024-01-02T03:04:05")


def test_dicts_lists_and_arrays_become_frames() -> None:
    plan = _plan(a="long", b="double")
    for data in (
        {"a": [1, 2], "b": [0.5, 1.5]},
        [{"a": 1, "b": 0.5}, {"a": 2, "b": 1.5}],
        np.array([[1, 0.5], [2, 1.5]]),
    ):
        out = plan(data)
        assert out.columns.tolist() == ["a", "b"]
        assert out["a"].tolist() == [1, 2] and out["a"].dtype == np.int64
    single = plan({"a": 7, "b": 0.25})  # one row as a dict of scalars
    assert single.to_dict("records") == [{"a": 7, "b": 0.25}]
    with pytest.raises(InvalidArgument, match="array of shape \\[2, 3\\]"):
        plan(np.zeros((2, 3)))
    with pytest.raises(InvalidArgument, match="Cannot predict on a str"):
        plan("a,b")


def test_nullable_pandas_columns() -> None:
    plan = _plan(n="double", k="long")
    out = plan(pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "k": pd.array([1, 2])}))
    assert out["n"].isna().tolist() == [False, True] and out["k"].dtype == np.int64
    with pytest.raises(InvalidArgument, match="Column 'k' has missing values"):
        plan(pd.DataFrame({"n": [1.0], "k": pd.array([None], dtype="Int64")}))


def test_tensor_shape_and_dtype() -> None:
    plan = make_plan(Schema((TensorSpec("float32", (-1, 3)),)))
    out = plan(np.ones((4, 3), dtype=np.float64))
    assert out.dtype == np.float32 and out.shape == (4, 3)
    assert plan([[1, 2, 3]]).dtype == np.float32
    with pytest.raises(InvalidArgument, match=r"shape \[4, 2\].*\[-1, 3\]"):
        plan(np.ones((4, 2)))
    with pytest.raises(InvalidArgument, match="booleans"):
        plan(np.ones((1, 3), dtype=bool))


def test_named_tensors() -> None:
    plan = make_plan(
        Schema((TensorSpec("int64", (-1,), "ids"), TensorSpec("float64", (-1, 2), "x")))
    )
    out = plan({"ids": [1, 2], "x": [[0.5, 1.0], [1.5, 2.0]]})
    assert out["ids"].dtype == np.int64 and out["x"].shape == (2, 2)
    with pytest.raises(InvalidArgument, match="Missing input tensor 'x'"):
        plan({"ids": [1]})
    with pytest.raises(InvalidArgument, match="Unexpected input tensor 'y'"):
        plan({"ids": [1], "x": [[0.5, 1.0]], "y": [1]})
    with pytest.raises(InvalidArgument, match="named tensors"):
        plan(np.ones(3))
