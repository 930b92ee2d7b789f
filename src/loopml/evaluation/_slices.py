"""Slices of an evaluation set: a column's values or a boolean expression over columns.

An expression such as ``country == 'DE' and age >= 65`` is parsed with :mod:`ast`
and evaluated here node by node over pandas columns; only comparisons, constants,
column names and ``and``/``or``/``not`` are accepted. Nothing is ever passed to
``eval`` or ``DataFrame.query``: a slice may come from a pull request or a policy
file and must not run code. A column name that is not an identifier is written
in backquotes: ``\\`signup date\\` >= '2024-01-01'``.
"""

from __future__ import annotations

import ast
import keyword
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument

MAX_EXPRESSION_LENGTH = 2000
_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FORBIDDEN = {
    ast.Call: "function call",
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.BinOp: "arithmetic",
    ast.Lambda: "lambda",
    ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment expression",
    ast.Is: "'is' comparison (use ==)",
    ast.IsNot: "'is not' comparison (use !=)",
}
_GRAMMAR = "comparisons (== != < <= > >= in, not in) of columns and constants joined by and/or/not"


@dataclass(frozen=True)
class Slice:
    """One named subset of rows: an ``expression``, or the rows where ``column`` == ``value``."""

    name: str
    expression: str | None = None
    column: str | None = None
    value: Any = None


def parse_slices(
    specs: Sequence[str | Mapping[str, Any]], frame: pd.DataFrame, max_values: int = 20
) -> list[Slice]:
    """Turn slice specifications into :class:`Slice` objects checked against ``frame``'s columns.

    A string is either a column name, which yields one slice per distinct value
    (the ``max_values`` most frequent; missing values form a ``<missing>`` slice),
    or an expression, whose slice is named by its normalised text. A mapping is
    ``{"expression": ..., "name": ...}`` or ``{"column": ..., "value": ...}``
    (``name`` optional; ``column`` without ``value`` expands like a bare name).
    Later slices with the name of an earlier one are dropped. Raises
    :class:`InvalidArgument` for an unknown column or a disallowed construct.
    """
    if isinstance(specs, str | Mapping):
        specs = [specs]
    found: dict[str, Slice] = {}
    for spec in specs:
        for slice_ in _parse_one(spec, frame, max_values):
            found.setdefault(slice_.name, slice_)
    return list(found.values())


def slice_mask(slice_: Slice, frame: pd.DataFrame) -> np.ndarray:
    """The rows of ``frame`` in the slice, as a boolean array; a missing value compares False.

    Every comparison with a missing value is False, ``!=`` included, so
    ``country != 'DE'`` does not select rows without a country (``not`` still
    inverts the whole result).
    """
    if slice_.expression is not None:
        tree, columns = _parse_expression(slice_.expression, frame)
        result = _Evaluator(frame, columns, slice_.expression).boolean(tree.body)
        return np.asarray(result, dtype=bool)
    if slice_.column is None:
        raise InvalidArgument(f"slice {slice_.name!r} has neither an expression nor a column")
    series = _column(frame, slice_.column, slice_.name)
    if _is_missing(slice_.value):
        return series.isna().to_numpy(dtype=bool)
    return (series == slice_.value).fillna(False).to_numpy(dtype=bool)


def _parse_one(spec: str | Mapping[str, Any], frame: pd.DataFrame, max_values: int) -> list[Slice]:
    if isinstance(spec, Mapping):
        return _parse_mapping(spec, frame, max_values)
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidArgument(f"slice {spec!r}: give a column name, an expression or a mapping")
    text = spec.strip()
    if text in frame.columns:  # a column whose name is not an identifier needs no quotes
        return _value_slices(text, frame, max_values)
    tree, columns = _parse_expression(text, frame)
    if isinstance(tree.body, ast.Name):
        return _value_slices(columns[tree.body.id], frame, max_values)
    normalised = _unparse(tree, columns)
    return [Slice(name=normalised, expression=normalised)]


def _parse_mapping(spec: Mapping[str, Any], frame: pd.DataFrame, max_values: int) -> list[Slice]:
    unknown = set(spec) - {"name", "expression", "column", "value"}
    if unknown:
        raise InvalidArgument(
            f"slice {dict(spec)!r}: unknown key(s) {sorted(map(str, unknown))}; "
            "use name with expression, or column with value"
        )
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidArgument(f"slice {dict(spec)!r}: name must be a string")
    if ("expression" in spec) == ("column" in spec):
        raise InvalidArgument(f"slice {dict(spec)!r}: give exactly one of expression and column")
    if "expression" in spec:
        expression = spec["expression"]
        if not isinstance(expression, str):
            raise InvalidArgument(f"slice {dict(spec)!r}: expression must be a string")
        tree, columns = _parse_expression(expression, frame)
        normalised = _unparse(tree, columns)
        return [Slice(name=name or normalised, expression=normalised)]
    column = spec["column"]
    _column(frame, column, str(name or column))
    if "value" not in spec:
        return _value_slices(column, frame, max_values)
    value = spec["value"]
    return [Slice(name=name or _value_name(column, value), column=column, value=value)]


def _value_slices(column: str, frame: pd.DataFrame, max_values: int) -> list[Slice]:
    counts = _column(frame, column, column).value_counts(dropna=False)
    slices = []
    for value in counts.index[:max_values]:
        plain = None if _is_missing(value) else _plain(value)
        slices.append(Slice(name=_value_name(column, plain), column=column, value=plain))
    return slices


def _value_name(column: str, value: Any) -> str:
    return f"{column}={'<missing>' if _is_missing(value) else value}"


def _parse_expression(text: str, frame: pd.DataFrame) -> tuple[ast.Expression, dict[str, str]]:
    """The checked syntax tree and the map from its names to the frame's column names."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidArgument(
            f"slice expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}"
        )
    source, quoted = _replace_backquotes(text)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidArgument(f"slice {text!r}: not a valid expression ({exc.msg})") from None
    except ValueError as exc:  # for example a NUL character
        raise InvalidArgument(f"slice {text!r}: not a valid expression ({exc})") from None
    except (RecursionError, MemoryError):
        raise InvalidArgument(f"slice {text!r}: expression too deeply nested") from None
    nodes = list(ast.walk(tree))
    for node in nodes:  # every construct first: a forbidden one is named even beside a typo
        _check_node(node, text)
    columns: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Name):
            column = quoted.get(node.id, node.id)
            _column(frame, column, text)
            columns[node.id] = column
    return tree, columns


def _replace_backquotes(text: str) -> tuple[str, dict[str, str]]:
    """Swap each `quoted name` for a fresh identifier, leaving string literals alone."""
    prefix = "_loopml_column_"
    while prefix in text:
        prefix += "_"
    out: list[str] = []
    quoted: dict[str, str] = {}
    i, quote = 0, ""
    while i < len(text):
        char = text[i]
        if quote:
            out.append(char)
            if char == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise InvalidArgument(f"slice {text!r}: a backquote is not closed")
            placeholder = f"{prefix}{len(quoted)}"
            quoted[placeholder] = text[i + 1 : end]
            out.append(f" {placeholder} ")
            i = end
        else:
            out.append(char)
        i += 1
    return "".join(out), quoted


def _check_node(node: ast.AST, text: str) -> None:
    allowed = (
        ast.Expression,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Compare,
        ast.Name,
        ast.Load,
        ast.Constant,
        ast.List,
        ast.Tuple,
        ast.In,
        ast.NotIn,
        *_COMPARISONS,
    )
    if not isinstance(node, allowed):
        what = _FORBIDDEN.get(type(node), type(node).__name__)
        raise InvalidArgument(f"slice {text!r}: {what} is not allowed; use {_GRAMMAR}")
    signed = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd)
    if signed and not _is_number(node):
        raise InvalidArgument(f"slice {text!r}: a sign applies to numbers only")
    if isinstance(node, ast.List | ast.Tuple) and not all(
        isinstance(e, ast.Constant) or _is_number(e) for e in node.elts
    ):
        raise InvalidArgument(f"slice {text!r}: a list may hold constants only")


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _is_number(node.operand)
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _unparse(tree: ast.Expression, columns: dict[str, str]) -> str:
    text = ast.unparse(tree)
    for placeholder, column in columns.items():
        plain = column.isidentifier() and not keyword.iskeyword(column)
        text = text.replace(placeholder, column if plain else f"`{column}`")
    return text


class _Evaluator:
    """Evaluates a checked tree over the frame's columns, one node kind at a time."""

    def __init__(self, frame: pd.DataFrame, columns: dict[str, str], text: str) -> None:
        self.frame, self.columns, self.text = frame, columns, text

    def boolean(self, node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.BoolOp):
            parts = [self.boolean(value) for value in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return combine.reduce(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self.boolean(node.operand)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Name):
            series = self.frame[self.columns[node.id]]
            if not pd.api.types.is_bool_dtype(series):
                raise InvalidArgument(
                    f"slice {self.text!r}: column {self.columns[node.id]!r} is not boolean; "
                    "compare it with a value"
                )
            return series.fillna(False).to_numpy(dtype=bool)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return np.full(len(self.frame), node.value)
        raise InvalidArgument(f"slice {self.text!r}: {ast.unparse(node)!r} is not a condition")

    def _compare(self, node: ast.Compare) -> np.ndarray:
        result = np.ones(len(self.frame), dtype=bool)
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            result &= self._pair(left, op, right)
            left = right
        return result

    def _pair(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> np.ndarray:
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(left, ast.Name) or not isinstance(right, ast.List | ast.Tuple):
                raise InvalidArgument(
                    f"slice {self.text!r}: 'in' needs a column on the left and a list on the right"
                )
            series = self.frame[self.columns[left.id]]
            values = [ast.literal_eval(e) for e in right.elts]  # allow-unsafe: checked constants
            found = series.isin(values).to_numpy(dtype=bool)
            present = series.notna().to_numpy(dtype=bool)
            return found if isinstance(op, ast.In) else ~found & present
        a, b = self._operand(left), self._operand(right)
        try:
            outcome = _COMPARISONS[type(op)](a, b)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"slice {self.text!r}: cannot compare {ast.unparse(left)} with "
                f"{ast.unparse(right)} ({exc})"
            ) from None
        outcomes = np.asarray(pd.Series(outcome).fillna(False) if _is_series(outcome) else outcome)
        mask = np.broadcast_to(outcomes.astype(bool), (len(self.frame),)).copy()
        for operand in (a, b):  # a missing value compares False, '!=' included
            if _is_series(operand):
                mask &= operand.notna().to_numpy(dtype=bool)
        return mask

    def _operand(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return self.frame[self.columns[node.id]]
        if isinstance(node, ast.Constant) or _is_number(node):
            return ast.literal_eval(node)  # allow-unsafe: a checked constant, no code runs
        raise InvalidArgument(
            f"slice {self.text!r}: compare columns and constants, not {ast.unparse(node)!r}"
        )


def _column(frame: pd.DataFrame, column: Any, slice_name: str) -> pd.Series:
    if not isinstance(column, str) or column not in frame.columns:
        listed = ", ".join(map(str, frame.columns))
        raise InvalidArgument(f"slice {slice_name!r}: no column {column!r} (columns: {listed})")
    return frame[column]


def _is_series(value: Any) -> bool:
    return isinstance(value, pd.Series)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like values are not missing
        return False


def _plain(value: Any) -> Any:
    """A JSON-ready value that still compares equal to the column's values."""
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return str(value)  # pandas parses it back when comparing with the column
    return value.item() if isinstance(value, np.generic) else value
