"""Signatures: inference from examples, MLflow's JSON form, and drop-in compatibility."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopml.core.errors import InvalidArgument
from loopml.models import (
    ColSpec,
    Schema,
    Signature,
    TensorSpec,
    infer_signature,
    signature_problems,
)
from loopml.models._enforce import make_plan


def test_pandas_columns_get_their_types() -> None:
    frame = pd.DataFrame(
        {
            "i64": np.array([1, 2], dtype=np.int64),
            "i32": np.array([1, 2], dtype=np.int32),
            "f64": [0.5, 1.5],
            "f32": np.array([0.5, 1.5], dtype=np.float32),
            "flag": [True, False],
            "name": ["a", "b"],
            "obj_name": pd.Series(["a", None], dtype=object),
            "when": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "blob": [b"x", b"y"],
        }
    )
    schema = infer_signature(frame).inputs
    assert [(c.name, c.type) for c in schema.inputs] == [
        ("i64", "long"),
        ("i32", "integer"),
        ("f64", "double"),
        ("f32", "float"),
        ("flag", "boolean"),
        ("name", "string"),
        ("obj_name", "string"),
        ("when", "datetime"),
        ("blob", "binary"),
    ]
    assert not schema.is_tensor


def test_numpy_array_is_a_tensor_of_any_batch_size() -> None:
    signature = infer_signature(np.zeros((5, 3), dtype=np.float32), np.zeros(5, dtype=np.int64))
    assert signature.inputs.inputs == (TensorSpec("float32", (-1, 3)),)
    assert signature.outputs is not None
    assert signature.outputs.inputs == (TensorSpec("int64", (-1,)),)


def test_dict_of_lists_and_list_of_dicts_are_tables() -> None:
    by_column = infer_signature({"a": [1, 2], "b": ["x", "y"]})
    by_row = infer_signature([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert by_column == by_row
    assert [(c.name, c.type) for c in by_column.inputs.inputs] == [("a", "long"), ("b", "string")]


@pytest.mark.parametrize(
    ("example", "message"),
    [
        (pd.DataFrame({"mixed": [1, "a"]}), "Column 'mixed'"),
        (pd.DataFrame({"delta": pd.to_timedelta([1, 2], unit="s")}), "Column 'delta'"),
        (np.array(1.0), "scalar"),
        (object(), "Cannot infer"),
        (pd.DataFrame({1: [1.0]}), "Column names must be strings"),
    ],
)
def test_examples_without_a_schema_are_refused(example: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        infer_signature(example)


@pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer:UserWarning")
def test_json_form_is_mlflows() -> None:
    from mlflow.models import infer_signature as mlflow_infer
    from mlflow.models.signature import ModelSignature

    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.0], "c": ["x", "y"], "d": [True, False]})
    ours = infer_signature(frame, np.array([0, 1]))
    theirs = mlflow_infer(frame, np.array([0, 1]))
    assert json.loads(ours.to_dict()["inputs"]) == json.loads(theirs.to_dict()["inputs"])
    assert json.loads(ours.to_dict()["outputs"]) == json.loads(theirs.to_dict()["outputs"])
    # Each side reads the other's form.
    assert Signature.from_dict(theirs.to_dict()) == ours
    assert ModelSignature.from_dict(ours.to_dict()) == theirs


def test_malformed_signatures_are_named() -> None:
    with pytest.raises(InvalidArgument, match="Unsupported type 'array'"):
        Signature.from_dict({"inputs": '[{"type": "array", "name": "a"}]'})
    with pytest.raises(InvalidArgument, match="Malformed schema JSON"):
        Signature.from_dict({"inputs": "[{"})
    with pytest.raises(InvalidArgument, match="columns or tensors, not both"):
        Schema((ColSpec("long", "a"), TensorSpec("float64", (-1,), "b")))
    with pytest.raises(InvalidArgument, match="Duplicate names"):
        Schema((ColSpec("long", "a"), ColSpec("double", "a")))


_COLUMNS = {
    "long": st.integers(-(2**40), 2**40),
    "double": st.floats(allow_nan=False, allow_infinity=False, width=64),
    "boolean": st.booleans(),
    "string": st.text(max_size=8),
}


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(sorted(_COLUMNS)), min_size=1, max_size=5),
    rows=st.integers(1, 6),
    data=st.data(),
)
def test_inferred_signature_round_trips_and_accepts_its_own_example(
    kinds: list[str], rows: int, data: st.DataObject
) -> None:
    frame = pd.DataFrame(
        {
            f"c{i}": data.draw(st.lists(_COLUMNS[kind], min_size=rows, max_size=rows))
            for i, kind in enumerate(kinds)
        }
    )
    signature = infer_signature(frame)
    assert [c.type for c in signature.inputs.inputs] == kinds
    assert Signature.from_dict(json.loads(json.dumps(signature.to_dict()))) == signature
    checked = make_plan(signature.inputs)(frame)
    pd.testing.assert_frame_equal(checked, frame)


def _sig(**columns: str) -> Signature:
    return Signature(Schema(tuple(ColSpec(t, n) for n, t in columns.items())))


def test_same_or_widened_inputs_are_drop_in() -> None:
    old = _sig(a="integer", b="float", c="string")
    assert signature_problems(old, old) == []
    assert signature_problems(old, _sig(a="long", b="double", c="string")) == []
    assert signature_problems(old.to_dict(), _sig(c="string", b="double", a="double")) == []


def test_optional_new_column_is_drop_in_but_required_is_not() -> None:
    old = _sig(a="long")
    optional = Signature(Schema((ColSpec("long", "a"), ColSpec("double", "b", required=False))))
    assert signature_problems(old, optional) == []
    assert signature_problems(old, _sig(a="long", b="double")) == ["column 'b' is new and required"]


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        (_sig(a="long"), "column 'b' is no longer accepted"),
        (_sig(a="integer", b="double"), "column 'a' changes type from long to integer"),
        (_sig(a="double", b="long"), "column 'b' changes type from double to long"),
        (_sig(a="string", b="double"), "column 'a' changes type from long to string"),
    ],
)
def test_narrowed_or_removed_inputs_are_problems(new: Signature, problem: str) -> None:
    problems = signature_problems(_sig(a="long", b="double"), new)
    assert any(problem in p for p in problems), problems


def test_tensor_compatibility() -> None:
    old = Signature(Schema((TensorSpec("float32", (-1, 4)),)))
    assert signature_problems(old, Signature(Schema((TensorSpec("float64", (-1, 4)),)))) == []
    assert signature_problems(old, Signature(Schema((TensorSpec("float32", (-1, 5)),)))) == [
        "tensor #0 changes shape from [-1, 4] to [-1, 5]"
    ]
    assert signature_problems(old, Signature(Schema((TensorSpec("int32", (-1, 4)),)))) == [
        "tensor #0 changes dtype from float32 to int32"
    ]
    assert signature_problems(old, _sig(a="double")) == [
        "the current model takes tensors, the new one takes columns"
    ]


def test_missing_or_unreadable_signatures() -> None:
    assert signature_problems({"inputs": '[{"type": "array", "name": "a"}]'}, _sig(a="long")) == [
        "a signature cannot be read: Unsupported type 'array' for column 'a': use one of "
        "boolean, integer, long, float, double, string, binary, datetime."
    ]
    assert signature_problems(None, _sig(a="long")) == []
    assert signature_problems(_sig(a="long"), None) == [
        "the new model has no signature, the current one has one"
    ]
