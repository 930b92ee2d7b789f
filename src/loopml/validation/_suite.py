"""Check suites: built in Python, read from YAML, or derived from a schema, then run.

The YAML form::

    checks:
      - row_count: {min: 100}
      - column: age
        type: numeric
        range: {min: 0, max: 120}
        max_missing: 0.01
      - column: country
        allowed: [FR, DE, US]
      - column: id
        unique: true
      - custom: no_future_dates        # a callable passed to Suite.from_yaml(custom=...)

Each key of a column entry is one check. A suite file that does not parse, or
names an unknown check, raises ``InvalidArgument`` naming the entry and line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument, LoopmlError, NotFound
from loopml.validation._checks import (
    Allowed,
    Check,
    CheckResult,
    ColumnType,
    Custom,
    MaxMissing,
    Range,
    RowCount,
    Unique,
)
from loopml.validation._frame import load_frame
from loopml.validation._schema import Schema

COLUMN_CHECKS = ("type", "range", "allowed", "max_missing", "unique")
FRAME_CHECKS = ("row_count", "custom")


@dataclass(frozen=True)
class ValidationResult:
    """Every check's result, in suite order; ``passed`` when all of them passed."""

    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks_passed": len(self.results) - len(self.failed),
            "checks_failed": len(self.failed),
            "results": [result.to_dict() for result in self.results],
        }


class Suite:
    """An ordered list of checks, run together on one dataset."""

    def __init__(self, checks: Sequence[Check]) -> None:
        for check in checks:
            if not isinstance(check, Check):
                raise InvalidArgument(f"A suite holds checks, not {check!r}.")
        self.checks = list(checks)

    def __len__(self) -> int:
        return len(self.checks)

    def run(self, data: Any) -> ValidationResult:
        """Run every check on a DataFrame or a Parquet/CSV file; failures do not stop the run."""
        frame = load_frame(data)
        return ValidationResult(tuple(check.run(frame) for check in self.checks))

    @classmethod
    def from_schema(cls, schema: Schema) -> Suite:
        """Checks that data matching the reference passes: types, nulls, ranges, categories."""
        checks: list[Check] = []
        for column in schema.columns:
            checks.append(ColumnType(column.name, column.kind))
            if not column.nullable:
                checks.append(MaxMissing(column.name, 0.0))
            if column.min is not None or column.max is not None:
                checks.append(Range(column.name, column.min, column.max))
            if column.allowed:
                checks.append(Allowed(column.name, column.allowed))
        return cls(checks)

    @classmethod
    def from_yaml(
        cls, path: str | Path, custom: Mapping[str, Callable[[Any], bool | str]] | None = None
    ) -> Suite:
        """Read a suite file; ``custom`` names the callables its ``custom:`` entries use."""
        source = Path(path)
        if not source.is_file():
            raise NotFound(f"Suite file {str(source)!r} does not exist: check the path.")
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidArgument(f"Cannot read suite file {str(source)!r}: {exc}") from None
        return cls.from_yaml_text(text, custom=custom, origin=str(source))

    @classmethod
    def from_yaml_text(
        cls,
        text: str,
        custom: Mapping[str, Callable[[Any], bool | str]] | None = None,
        origin: str = "<suite>",
    ) -> Suite:
        """Parse a suite from YAML text (see the module docstring for the format)."""
        import yaml

        try:
            root = yaml.compose(text)
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"{origin} is not valid YAML: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("checks"), list):
            raise InvalidArgument(f"{origin} must be a mapping with a 'checks:' list.")
        unknown = set(document) - {"checks"}
        if unknown:
            raise InvalidArgument(f"{origin}: unknown top-level key(s) {sorted(unknown)}.")
        lines = _entry_lines(root)
        checks: list[Check] = []
        for index, entry in enumerate(document["checks"]):
            where = f"{origin}, check {index + 1} (line {lines[index]})"
            try:
                checks.extend(_parse_entry(entry, custom or {}))
            except LoopmlError as exc:
                raise InvalidArgument(f"{where}: {exc.message}") from None
        if not checks:  # a gate that checks nothing would pass every dataset
            raise InvalidArgument(f"{origin} has no checks: add at least one under 'checks:'.")
        return cls(checks)


def _entry_lines(root: Any) -> list[int]:
    """The 1-based line where each item of the ``checks:`` list starts."""
    for key, value in root.value:
        if key.value == "checks":
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _parse_entry(entry: Any, custom: Mapping[str, Callable[[Any], bool | str]]) -> list[Check]:
    if not isinstance(entry, dict) or not entry:
        raise InvalidArgument(f"a check must be a mapping, not {entry!r}.")
    if "column" not in entry:
        if len(entry) != 1:
            raise InvalidArgument(
                f"a check without 'column' has one key ({' or '.join(FRAME_CHECKS)}),"
                f" not {sorted(entry)}."
            )
        ((kind, spec),) = entry.items()
        if kind == "row_count":
            low, high = _range_spec(spec, "row_count")
            return [RowCount(low, high)]
        if kind == "custom":
            return [_custom(spec, custom)]
        raise InvalidArgument(_unknown(kind))
    column = entry["column"]
    if not isinstance(column, str) or not column:
        raise InvalidArgument(f"'column' must be a column name, not {column!r}.")
    keys = [key for key in entry if key != "column"]
    if not keys:
        raise InvalidArgument(f"column {column!r} has no check: use {', '.join(COLUMN_CHECKS)}.")
    checks: list[Check] = []
    for key in keys:
        spec = entry[key]
        if key == "type":
            checks.append(ColumnType(column, spec))
        elif key == "range":
            low, high = _range_spec(spec, f"range of {column!r}")
            checks.append(Range(column, low, high))
        elif key == "allowed":
            checks.append(Allowed(column, spec))
        elif key == "max_missing":
            checks.append(MaxMissing(column, spec))
        elif key == "unique":
            if spec is not True and spec is not False:
                raise InvalidArgument(f"unique of {column!r} must be true or false, not {spec!r}.")
            if spec:
                checks.append(Unique(column))
        else:
            raise InvalidArgument(_unknown(key))
    return checks


def _unknown(key: Any) -> str:
    known = ", ".join((*FRAME_CHECKS, *COLUMN_CHECKS))
    return f"unknown check {key!r}: the checks are {known}."


def _range_spec(spec: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(spec, dict) or not spec or set(spec) - {"min", "max"}:
        raise InvalidArgument(f"{what} must be a mapping with min and/or max, not {spec!r}.")
    return spec.get("min"), spec.get("max")


def _custom(spec: Any, custom: Mapping[str, Callable[[Any], bool | str]]) -> Check:
    if not isinstance(spec, str) or spec not in custom:
        known = sorted(custom) or "none were given"
        raise InvalidArgument(
            f"custom check {spec!r} is not one of the callables passed to"
            f" Suite.from_yaml(custom=...) ({known})."
        )
    return Custom(spec, custom[spec])
