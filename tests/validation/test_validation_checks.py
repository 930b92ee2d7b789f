"""Each check passing and failing, schema inference, and suites built from a schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument
from loopml.validation import (
    Allowed,
    ColumnType,
    Custom,
    MaxMissing,
    Range,
    RowCount,
    Suite,
    Unique,
    infer_schema,
)


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "age": [31.0, 45.0, np.nan, 22.0, 67.0],
            "country": ["FR", "DE", "US", "FR", None],
            "member": [True, False, True, True, False],
        }
    )


def test_row_count(people: pd.DataFrame) -> None:
    assert RowCount(min=5, max=5).run(people).passed
    failed = RowCount(min=100).run(people)
    assert not failed.passed and failed.observed == 5
    assert failed.message == "data has 5 rows, expected >= 100"
    assert not RowCount(max=4).run(people).passed


def test_column_type(people: pd.DataFrame) -> None:
    assert ColumnType("age", "numeric").run(people).passed
    assert ColumnType("member", "boolean").run(people).passed
    failed = ColumnType("country", "numeric").run(people)
    assert not failed.passed and failed.observed == "categorical"
    assert failed.message == "column 'country' is categorical, expected numeric"


def test_range(people: pd.DataFrame) -> None:
    passed = Range("age", 0, 120).run(people)
    assert passed.passed and passed.observed == {"min": 22.0, "max": 67.0}
    failed = Range("age", min=30).run(people)
    assert not failed.passed
    assert failed.message == "column 'age' has 1 value(s) below 30 (observed [22, 67])"
    assert not Range("country", 0, 1).run(people).passed  # not numbers: fails, never raises


def test_allowed(people: pd.DataFrame) -> None:
    assert Allowed("country", ["FR", "DE", "US"]).run(people).passed  # missing is not checked
    failed = Allowed("country", ["FR"]).run(people)
    assert not failed.passed and failed.observed == ["DE", "US"]
    assert "column 'country' has 2 value(s) not in the allowed list" in failed.message


def test_max_missing(people: pd.DataFrame) -> None:
    assert MaxMissing("age", 0.2).run(people).passed
    failed = MaxMissing("age", 0.0).run(people)
    assert not failed.passed and failed.observed == pytest.approx(0.2)
    assert failed.message == "column 'age' is 20.00% missing, above the 0.00% allowed"


def test_unique(people: pd.DataFrame) -> None:
    assert Unique("id").run(people).passed
    failed = Unique("country").run(people)
    assert not failed.passed and failed.observed == 1
    assert failed.message == "column 'country' has 1 duplicate value(s), e.g. ['FR']"


def test_custom(people: pd.DataFrame) -> None:
    assert Custom("adults", lambda df: bool((df["age"].dropna() >= 18).all())).run(people).passed
    assert not Custom("seniors", lambda df: bool(df["age"].min() > 60)).run(people).passed
    message = Custom("ids", lambda df: "ids must start at 0").run(people)
    assert not message.passed and message.message == "ids: ids must start at 0"
    broken = Custom("oops", lambda df: df["nope"]).run(people)
    assert not broken.passed and "oops raised KeyError" in broken.message
    odd = Custom("odd", lambda df: 3).run(people)  # type: ignore[arg-type,return-value]
    assert not odd.passed and "expected a bool or a message" in odd.message
    with pytest.raises(InvalidArgument, match="needs a callable"):
        Custom("x", "not callable")  # type: ignore[arg-type]


def test_missing_column_fails_every_column_check(people: pd.DataFrame) -> None:
    for check in (
        ColumnType("salary", "numeric"),
        Range("salary", 0, 1),
        Allowed("salary", [1]),
        MaxMissing("salary", 0.5),
        Unique("salary"),
    ):
        result = check.run(people)
        assert not result.passed and result.message == "column 'salary' is missing from the data"


def test_nonsense_arguments_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="must be one of"):
        ColumnType("a", "text")
    with pytest.raises(InvalidArgument, match="min 5 is above max 1"):
        Range("a", 5, 1)
    with pytest.raises(InvalidArgument, match="needs a min, a max or both"):
        RowCount()
    with pytest.raises(InvalidArgument, match="must be a number"):
        Range("a", "0", 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="between 0 and 1"):
        MaxMissing("a", 1.5)
    with pytest.raises(InvalidArgument, match="non-empty list"):
        Allowed("a", "FR")


def test_infer_schema(people: pd.DataFrame) -> None:
    schema = infer_schema(people)
    assert [c.name for c in schema.columns] == ["id", "age", "country", "member"]
    age = schema["age"]
    assert age.kind == "numeric" and age.nullable and (age.min, age.max) == (22.0, 67.0)
    country = schema["country"]
    assert country.kind == "categorical" and country.nullable
    assert country.allowed == ("DE", "FR", "US") and country.min is None
    assert schema["member"].allowed == (False, True) and not schema["id"].nullable
    ids = infer_schema(pd.DataFrame({"code": [f"c{i}" for i in range(50)]}), max_allowed_values=20)
    assert ids["code"].allowed is None  # an id-like column gets no allowed list
    assert schema.to_dict()["columns"][2]["allowed"] == ["DE", "FR", "US"]


def test_suite_from_schema_passes_reference_and_catches_changes(
    people: pd.DataFrame, tmp_path: Path
) -> None:
    suite = Suite.from_schema(infer_schema(people))
    assert suite.run(people).passed
    changed = people.assign(age=[31.0, 45.0, 50.0, 22.0, 130.0], country=["FR"] * 4 + ["JP"])
    changed = changed.assign(id=changed["id"].astype(str))
    result = suite.run(changed)
    assert not result.passed
    failed = {r.name for r in result.failed}
    assert failed == {"range(age)", "allowed(country)", "type(id)", "range(id)"}
    path = tmp_path / "people.parquet"
    people.to_parquet(path)
    assert suite.run(path).passed
    document = result.to_dict()
    assert document["checks_failed"] == 4 and not document["passed"]
    assert document["checks_passed"] + 4 == len(suite)
