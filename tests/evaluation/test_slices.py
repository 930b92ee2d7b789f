"""Slice parsing and masks: values per column, safe expressions, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopml.core.errors import InvalidArgument
from loopml.evaluation._slices import Slice, parse_slices, slice_mask


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["DE", "FR", "DE", None, "US", "DE"],
            "age": [20, 70, 40, 66, np.nan, 30],
            "signup date": pd.to_datetime(
                ["2024-01-05", "2023-06-01", "2024-03-01", "2022-01-01", "2024-02-02", "2021-01-01"]
            ),
            "premium": [True, False, True, False, True, False],
        }
    )


def _rows(spec, frame) -> list[int]:
    (slice_,) = parse_slices([spec], frame)
    return np.flatnonzero(slice_mask(slice_, frame)).tolist()


def test_a_column_name_gives_one_slice_per_value_most_frequent_first(frame):
    slices = parse_slices(["country"], frame)
    assert [s.name for s in slices][:1] == ["country=DE"]
    assert {s.name for s in slices} == {
        "country=DE",
        "country=FR",
        "country=US",
        "country=<missing>",
    }
    masks = {s.name: np.flatnonzero(slice_mask(s, frame)).tolist() for s in slices}
    assert masks == {
        "country=DE": [0, 2, 5],
        "country=FR": [1],
        "country=US": [4],
        "country=<missing>": [3],
    }
    assert [s.value for s in slices if s.name == "country=<missing>"] == [None]
    assert len(parse_slices(["country"], frame, max_values=1)) == 1


def test_value_slices_hold_plain_values(frame):
    (first, *_) = parse_slices(["premium"], frame)
    assert type(first.value) is bool
    assert isinstance(parse_slices(["age"], frame)[0].value, float)
    # Timestamps become text that still selects their rows.
    dates = parse_slices(["signup date"], frame)
    assert json.dumps([s.value for s in dates])
    assert [np.flatnonzero(slice_mask(s, frame)).tolist() for s in dates] == [[i] for i in range(6)]


def test_expressions_select_rows_and_are_named_by_their_normalised_text(frame):
    (slice_,) = parse_slices(["country=='DE'   and age>30"], frame)
    assert slice_ == Slice(
        name="country == 'DE' and age > 30", expression="country == 'DE' and age > 30"
    )
    assert np.flatnonzero(slice_mask(slice_, frame)).tolist() == [2]
    assert _rows("age >= 65 or country == 'US'", frame) == [1, 3, 4]
    assert _rows("18 <= age < 35", frame) == [0, 5]
    assert _rows("country in ['FR', 'US']", frame) == [1, 4]
    assert _rows("country not in ('DE',)", frame) == [1, 4]  # the missing country is not in
    assert _rows("not (country == 'DE')", frame) == [1, 3, 4]  # not inverts the whole result
    assert _rows("premium and age > -1", frame) == [0, 2]
    assert _rows("not premium", frame) == [1, 3, 5]
    assert _rows("30 < age", frame) == [1, 2, 3]


def test_missing_values_compare_false_even_with_not_equal(frame):
    assert _rows("country != 'DE'", frame) == [1, 4]
    assert _rows("age != 20", frame) == [1, 2, 3, 5]
    assert _rows("age == age", frame) == [0, 1, 2, 3, 5]


def test_backquoted_columns_and_column_names_with_spaces(frame):
    (slice_,) = parse_slices(["`signup date` >= '2024-01-01'"], frame)
    assert slice_.name == "`signup date` >= '2024-01-01'"
    assert np.flatnonzero(slice_mask(slice_, frame)).tolist() == [0, 2, 4]
    # A backquote inside a string constant is text, not a column.
    assert _rows("country == '`DE`'", frame) == []
    # The bare name of such a column, quoted or not, slices by value.
    assert len(parse_slices(["signup date"], frame)) == 6
    assert len(parse_slices(["`signup date`"], frame)) == 6


def test_mapping_specs(frame):
    slices = parse_slices(
        [
            {"name": "seniors", "expression": "age >= 65"},
            {"column": "country", "value": "FR"},
            {"column": "premium"},
        ],
        frame,
    )
    assert slices[0] == Slice(name="seniors", expression="age >= 65")
    assert slices[1] == Slice(name="country=FR", column="country", value="FR")
    assert [s.name for s in slices[2:]] == ["premium=True", "premium=False"]
    assert np.flatnonzero(slice_mask(slices[0], frame)).tolist() == [1, 3]
    assert np.flatnonzero(slice_mask(slices[1], frame)).tolist() == [1]


def test_duplicate_names_keep_the_first(frame):
    slices = parse_slices(
        ["age > 30", "age>30", "country", {"column": "country", "value": "DE"}], frame
    )
    assert [s.name for s in slices].count("age > 30") == 1
    assert [s.name for s in slices].count("country=DE") == 1


def test_a_slice_matching_no_rows_is_an_empty_mask(frame):
    assert _rows("age > 1000", frame) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("x == 1", "no column 'x' (columns: country, age, signup date, premium)"),
        ("`no such` == 1", "no column 'no such'"),
        ("nowhere", "no column 'nowhere'"),
        ({"column": "nowhere", "value": 1}, "no column 'nowhere'"),
        ("__import__('os').system('true')", "function call is not allowed"),
        ("__import__('os')", "function call is not allowed"),
        ("country.str.len() > 1", "function call is not allowed"),
        ("country.values == 1", "attribute access is not allowed"),
        ("().__class__ == 1", "attribute access is not allowed"),
        ("age + 1 > 30", "arithmetic is not allowed"),
        ("age[0] > 1", "subscript is not allowed"),
        ("age is None", "'is' comparison"),
        ("(lambda: 1) == 1", "lambda is not allowed"),
        ("[x for x in age] == 1", "ListComp is not allowed"),
        ("age > 1 if premium else 2", "conditional expression is not allowed"),
        ("f'{age}' == '1'", "JoinedStr is not allowed"),
        ("age in [country]", "a list may hold constants only"),
        ("'DE' in country", "'in' needs a column on the left"),
        ("age ==", "not a valid expression"),
        ("`age == 1", "backquote is not closed"),
        ("country and age > 1", "column 'country' is not boolean"),
        ("country < 3", "cannot compare country with 3"),
        ("age > 30; import os", "not a valid expression"),
        ("", "give a column name"),
        ({"expression": "age > 1", "column": "age"}, "exactly one of expression and column"),
        ({"expression": "age > 1", "where": 1}, "unknown key"),
        ("age > " + "(" * 3000 + "1" + ")" * 3000, "limit is"),
    ],
)
def test_bad_slices_are_invalid_argument(frame, spec, message):
    with pytest.raises(InvalidArgument, match="slice") as caught:
        for slice_ in parse_slices([spec], frame):
            slice_mask(slice_, frame)
    assert message in caught.value.message


# Property: on data without missing values, a generated expression selects exactly the
# rows Python itself selects when evaluating the same (trusted, generated) text per row.
_COLUMNS = {"a": st.integers(-3, 3), "b": st.integers(-3, 3), "c": st.sampled_from(["x", "y", "z"])}


@st.composite
def _conditions(draw, depth: int = 0) -> str:
    kind = draw(
        st.sampled_from(["compare", "in"] if depth >= 2 else ["compare", "in", "bool", "not"])
    )
    if kind == "compare":
        column = draw(st.sampled_from(["a", "b", "c"]))
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        if column == "c":
            op = draw(st.sampled_from(["==", "!="]))
            return f"{column} {op} {draw(st.sampled_from(['x', 'y', 'w']))!r}"
        other = draw(st.sampled_from(["a", "b", str(draw(st.integers(-4, 4)))]))
        return f"{column} {op} {other}"
    if kind == "in":
        values = draw(st.lists(st.integers(-3, 3), max_size=3))
        return f"a {draw(st.sampled_from(['in', 'not in']))} {values}"
    if kind == "not":
        return f"not ({draw(_conditions(depth + 1))})"
    joiner = draw(st.sampled_from([" and ", " or "]))
    return joiner.join(f"({draw(_conditions(depth + 1))})" for _ in range(2))


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.fixed_dictionaries(_COLUMNS), min_size=1, max_size=12),
    expression=_conditions(),
)
def test_generated_expressions_match_python_row_by_row(rows, expression):
    frame = pd.DataFrame(rows)
    (slice_,) = parse_slices([expression], frame)
    expected = [
        bool(eval(expression, {"__builtins__": {}}, row)) for row in rows
    ]  # generated, trusted text
    assert slice_mask(slice_, frame).tolist() == expected
    # The normalised text is itself a valid slice with the same rows.
    (again,) = parse_slices([slice_.expression], frame)
    assert slice_mask(again, frame).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("ab()'\"`=<>!. _,[]0123456789+-*/nota")), max_size=40
    )
)
def test_any_text_is_a_slice_or_invalid_argument(text):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    try:
        for slice_ in parse_slices([text], frame):
            assert slice_mask(slice_, frame).dtype == bool
    except InvalidArgument:
        pass
