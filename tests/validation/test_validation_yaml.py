"""Suites read from YAML: the documented format, and errors naming the bad entry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument, NotFound
from loopml.validation import Suite

SUITE = """\
checks:
  - row_count: {min: 3}
  - column: age
    type: numeric
    range: {min: 0, max: 120}
    max_missing: 0.01
  - column: country
    allowed: [FR, DE, US]
  - column: id
    unique: true
  - custom: adults_only
"""


def _adults(frame: pd.DataFrame) -> bool | str:
    return True if (frame["age"] >= 18).all() else "minors in the data"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def test_documented_format_runs(tmp_path: Path) -> None:
    suite = Suite.from_yaml(_write(tmp_path, SUITE), custom={"adults_only": _adults})
    names = [check.name for check in suite.checks]
    assert names == [
        "row_count",
        "type(age)",
        "range(age)",
        "max_missing(age)",
        "allowed(country)",
        "unique(id)",
        "custom(adults_only)",
    ]
    good = pd.DataFrame({"id": [1, 2, 3], "age": [20, 40, 60], "country": ["FR", "DE", "US"]})
    assert (
        Suite.from_yaml(_write(tmp_path, SUITE), custom={"adults_only": _adults}).run(good).passed
    )
    bad = pd.DataFrame({"id": [1, 1, 3], "age": [12, 40, 130], "country": ["FR", "JP", "US"]})
    result = suite.run(bad)
    assert {r.name for r in result.failed} == {
        "range(age)",
        "allowed(country)",
        "unique(id)",
        "custom(adults_only)",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "checks:\n  - column: age\n    between: [1, 2]\n",
            "check 1 (line 2): unknown check 'between'",
        ),
        (
            "checks:\n  - row_count: {min: 1}\n  - rows: 3\n",
            "check 2 (line 3): unknown check 'rows'",
        ),
        ("checks:\n  - column: age\n    type: text\n", "type of 'age' must be one of"),
        ("checks:\n  - column: age\n    range: [0, 1]\n", "must be a mapping with min and/or max"),
        ("checks:\n  - column: age\n    range: {min: a}\n", "must be a number, not 'a'"),
        ("checks:\n  - column: age\n    range: {low: 1}\n", "must be a mapping with min"),
        ("checks:\n  - column: age\n    max_missing: 2\n", "between 0 and 1"),
        ("checks:\n  - column: age\n    unique: yes please\n", "must be true or false"),
        ("checks:\n  - column: age\n    allowed: FR\n", "must be a non-empty list"),
        ("checks:\n  - column: age\n", "has no check"),
        ("checks:\n  - column: [a]\n    unique: true\n", "'column' must be a column name"),
        ("checks:\n  - just text\n", "a check must be a mapping"),
        ("checks:\n  - row_count: {min: 1}\n    custom: x\n", "has one key"),
        ("checks:\n  - custom: missing\n", "custom check 'missing' is not one of the callables"),
        ("checks: {row_count: 1}\n", "must be a mapping with a 'checks:' list"),
        ("rules: []\n", "must be a mapping with a 'checks:' list"),
        ("checks: []\nextra: 1\n", "unknown top-level key(s) ['extra']"),
        ("checks: [\n", "is not valid YAML"),
        ("checks: []\n", "has no checks"),
        ("checks:\n  - column: id\n    unique: false\n", "has no checks"),
    ],
)
def test_bad_suite_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        Suite.from_yaml(_write(tmp_path, text))
    assert message in error.value.message
    assert "suite.yaml" in error.value.message


def test_missing_suite_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        Suite.from_yaml(tmp_path / "none.yaml")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidArgument, match="Cannot read suite file"):
        Suite.from_yaml(tmp_path / "binary.yaml")


def test_suite_rejects_non_checks() -> None:
    with pytest.raises(InvalidArgument, match="A suite holds checks"):
        Suite(["row_count"])  # type: ignore[list-item]
