"""Schemas inferred from a reference dataset: what new data is expected to look like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loopml.core.errors import NotFound
from loopml.validation._frame import Kind, load_frame
from loopml.validation._profile import profile_column

MAX_ALLOWED_VALUES = 20  # categories with more distinct values get no allowed list


@dataclass(frozen=True)
class ColumnSchema:
    """One column as seen in the reference.

    ``min``/``max`` are the observed range of a numeric column; ``allowed`` the
    observed values of a low-cardinality categorical or boolean column.
    """

    name: str
    kind: Kind
    nullable: bool
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "nullable": self.nullable,
            "min": self.min,
            "max": self.max,
            "allowed": list(self.allowed) if self.allowed is not None else None,
        }


@dataclass(frozen=True)
class Schema:
    columns: tuple[ColumnSchema, ...]

    def __getitem__(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        names = [c.name for c in self.columns]
        raise NotFound(f"No column {name!r} in this schema: it has {names}.")

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [column.to_dict() for column in self.columns]}


def infer_schema(reference: Any, max_allowed_values: int = MAX_ALLOWED_VALUES) -> Schema:
    """The schema of a reference DataFrame or Parquet/CSV file.

    A column is nullable when the reference has a missing value in it. Only
    categories with at most ``max_allowed_values`` distinct values get an
    allowed list: for an id-like column the list would reject every new row.
    """
    frame = load_frame(reference)
    columns = []
    for name in frame.columns:
        series = frame[name]
        stats = profile_column(str(name), series)
        allowed = None
        low_cardinality = 0 < (stats.cardinality or 0) <= max_allowed_values
        if stats.kind in ("categorical", "boolean") and low_cardinality:
            allowed = tuple(sorted(series.dropna().unique().tolist(), key=str))
        numeric = stats.kind == "numeric"
        columns.append(
            ColumnSchema(
                name=str(name),
                kind=stats.kind,
                nullable=stats.missing > 0,
                min=stats.min if numeric else None,
                max=stats.max if numeric else None,
                allowed=allowed,
            )
        )
    return Schema(tuple(columns))
