"""MLflow's run-search filter language and ``order_by`` clauses, parsed by hand.

Users paste the filters they wrote for MLflow's ``search_runs``, so this accepts the grammar of
``mlflow/utils/search_utils.py`` (MLflow 3.x) without its sqlparse dependency::

    filter     := [comparison (AND comparison)*]    keywords are case-insensitive; there is no OR
    comparison := identifier comparator [value]
    identifier := [prefix "."] key                  without a prefix the key is a run attribute
    key        := name ("." name)* | `quoted` | "quoted"      e.g. tags.mlflow.runName
    value      := number | 'string' | "string" | "(" string ("," string)* [","] ")"
    order_by   := identifier [ASC | DESC]

What each kind takes, as in MLflow:

    metrics.*               = != > >= < <=            a number
    params.*, tags.*        = != LIKE ILIKE            a quoted string; or IS [NOT] NULL
    start_time, end_time    = != > >= < <=            a number    (``created`` = start_time)
    run_id                  = != LIKE ILIKE IN NOT IN  a string, or a list for IN / NOT IN
    run_name, status, user_id, artifact_uri   = != LIKE ILIKE    (``Run Name`` = run_name)
    datasets.name|digest|context   = != LIKE ILIKE IN NOT IN

Deliberate differences, all on inputs MLflow mishandles: escapes inside quotes (``''``, ``\\'``,
``\\\\``) are decoded where MLflow keeps them verbatim, so ``'C:\\'`` is unterminated (write
``'C:\\\\'``); a dangling or doubled AND is an error where MLflow ignores it; IN lists keep every
value where MLflow drops run ids that are not lower-case; an exponent may carry ``+`` (``1e+5``,
as Python prints floats).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from loopml.core.errors import InvalidArgument

EntityKind = Literal["metric", "param", "tag", "attribute", "dataset"]
Value: TypeAlias = float | int | str | tuple[str, ...] | None

__all__ = ["Comparison", "EntityKind", "OrderBy", "parse_filter", "parse_order_by"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """One term ``<kind>.<key> <op> <value>`` of a filter; a filter is the AND of its terms.

    ``op`` is upper-case and one MLflow allows for ``kind``. ``value`` is a ``float`` for metrics,
    an ``int`` (``float`` if written with a point or exponent) for start_time/end_time, a ``str``
    for string comparisons, a tuple of strings for IN/NOT IN and ``None`` for IS [NOT] NULL.
    Attribute keys are canonical: ``created`` becomes ``start_time``, ``Run Name`` ``run_name``.
    """

    kind: EntityKind
    key: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ``order_by`` clause: sort runs by ``kind``/``key``, ascending unless DESC was given."""

    kind: EntityKind
    key: str
    ascending: bool


_PREFIXES: dict[str, EntityKind] = {
    **dict.fromkeys(("metric", "metrics"), "metric"),
    **dict.fromkeys(("param", "params", "parameter", "parameters"), "param"),
    **dict.fromkeys(("tag", "tags"), "tag"),
    **dict.fromkeys(("attribute", "attributes", "attr", "run"), "attribute"),
    **dict.fromkeys(("dataset", "datasets"), "dataset"),
}
_NUMERIC_ATTRS = frozenset({"start_time", "end_time"})
_STRING_ATTRS = frozenset({"run_id", "run_name", "status", "user_id", "artifact_uri"})
_DATASET_KEYS = frozenset({"name", "digest", "context"})
_ORDER_ALIASES = {"created": "start_time", "Created": "start_time"}
_FILTER_ALIASES = _ORDER_ALIASES | dict.fromkeys(("run name", "Run name", "Run Name"), "run_name")

_NUMERIC_OPS = ("=", "!=", ">", ">=", "<", "<=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS = ("IN", "NOT IN")
_NULL_OPS = ("IS NULL", "IS NOT NULL")

_EXAMPLES = {
    "metric": "metrics.accuracy > 0.9",
    "param": "params.batch_size = '2'",
    "tag": "tags.env = 'prod'",
    "attribute": "attributes.status = 'FINISHED'",
    "numeric": "attributes.start_time >= 1664067852747",
    "dataset": "datasets.digest IN ('s8ds293b', 'jks834s2')",
    "list": "attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')",
    "quoted": "metrics.`f1 score` > 0.5",
    "order": "metrics.`f1 score` DESC",
}

_WS = re.compile(r"\s*")
_NAME = re.compile(r"[^\W\d]\w*")
_SYMBOL = re.compile(r"[<>=!~]+")
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?![\w.])")
_TOKEN = re.compile(r"\S{1,30}")


def _allowed_ops(kind: EntityKind, key: str) -> tuple[str, ...]:
    if kind == "metric" or (kind == "attribute" and key in _NUMERIC_ATTRS):
        return _NUMERIC_OPS
    if kind in ("param", "tag"):
        return _STRING_OPS + _NULL_OPS
    if kind == "dataset" or key == "run_id":
        return _STRING_OPS + _LIST_OPS
    return _STRING_OPS


def _example(kind: EntityKind, key: str) -> str:
    return "numeric" if kind == "attribute" and key in _NUMERIC_ATTRS else kind


class _Parser:
    """A cursor over one filter or order_by clause; each method reads one production."""

    def __init__(self, text: str, what: str) -> None:
        self.text, self.what, self.pos = text, what, 0

    def fail(self, problem: str, pos: int | None = None, example: str = "") -> InvalidArgument:
        """The error for ``problem`` at ``pos``, showing the ``_EXAMPLES[example]`` syntax."""
        text = self.text if len(self.text) <= 200 else self.text[:200] + "..."
        at = self.pos if pos is None else pos
        message = f"Invalid {self.what} {text!r}: {problem} (at position {at})."
        if example and self.what != "filter":
            example = "order"
        return InvalidArgument(f"{message} Example: {_EXAMPLES[example]}" if example else message)

    def found(self) -> str:
        token = _TOKEN.match(self.text, self.pos)
        return repr(token.group()) if token else "the end of the input"

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_ws(self) -> bool:
        start = self.pos
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
        return self.pos > start

    def read(self, pattern: re.Pattern[str]) -> str | None:
        match = pattern.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        return match.group() if match else None

    def word(self) -> str | None:
        """Read a bare word, upper-cased if ASCII: keywords are case-insensitive ASCII."""
        word = self.read(_NAME)
        return word.upper() if word and word.isascii() else word

    def quoted(self, quote: str) -> str:
        """Read a quoted run; the quote doubled, or (not in backticks) after ``\\``, escapes."""
        start, i, out, text = self.pos, self.pos + 1, [], self.text
        while i < len(text):
            char, after = text[i], text[i + 1 : i + 2]
            if (char == "\\" and quote != "`" and after in (quote, "\\")) or char == after == quote:
                out.append(after)
                i += 2
            elif char == quote:
                self.pos = i + 1
                return "".join(out)
            else:
                out.append(char)
                i += 1
        raise self.fail(f"unterminated quote {quote} (close it with {quote})", start)

    def segment(self) -> tuple[str | None, bool]:
        if self.peek() in ("`", '"'):
            return self.quoted(self.peek()), True
        return self.read(_NAME), False

    def identifier(self, aliases: dict[str, str]) -> tuple[EntityKind, str]:
        """Read ``[prefix.]key`` and resolve it to a kind and a canonical key."""
        start = self.pos
        first, _ = self.segment()
        if first is None:
            raise self.fail(f"expected a key, found {self.found()}", example="metric")
        if self.peek() != ".":
            return "attribute", self.attribute(first, aliases, start, bare=True)
        self.pos += 1
        kind = _PREFIXES.get(first)
        if kind is None:
            hint = " (prefixes are lower-case)" if first.lower() in _PREFIXES else ""
            hint = " (system tags are tags.mlflow.*)" if first == "mlflow" else hint
            problem = f"unknown entity {first!r}{hint}; use metrics., params., tags., attributes."
            raise self.fail(f"{problem} or datasets.", start, "metric")
        key, quoted = self.segment()
        parts = [key]
        while key is not None and not quoted and self.peek() == ".":
            self.pos += 1
            key, quoted = self.segment()
            parts.append(None if quoted else key)
        if None in parts:
            problem = f"bad key after {first + '.'!r}, found {self.found()}; quote keys that hold"
            raise self.fail(f"{problem} special characters or start with a digit", example="quoted")
        key = ".".join(p for p in parts if p is not None)
        if not key:
            raise self.fail("the key is empty", start, kind)
        if kind == "attribute":
            return kind, self.attribute(key, aliases, start, bare=False)
        if kind == "dataset" and key not in _DATASET_KEYS:
            problem = f"unknown dataset field {key!r}; use name, digest or context"
            raise self.fail(problem, start, "dataset")
        return kind, key

    def attribute(self, key: str, aliases: dict[str, str], start: int, bare: bool) -> str:
        key = aliases.get(key, key)
        if key in _NUMERIC_ATTRS or key in _STRING_ATTRS:
            return key
        valid = ", ".join(sorted(_NUMERIC_ATTRS | _STRING_ATTRS))
        hint = f"; for a metric, param or tag write e.g. params.{key}" if bare else ""
        problem = f"unknown run attribute {key!r} (attributes: {valid}, created){hint}"
        raise self.fail(problem, start, "attribute")

    def operator(self, kind: EntityKind, key: str, spaced: bool) -> str:
        start = self.pos
        symbol = self.read(_SYMBOL)
        if symbol in _NUMERIC_OPS:
            return symbol
        if symbol is not None:
            fix = {"==": "=", "<>": "!=", "=>": ">=", "=<": "<="}.get(symbol, "=, !=, <, >...")
            raise self.fail(f"unknown comparator {symbol!r} (use {fix})", start)
        word = self.word()
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT" and self.skip_ws() and self.word() == "IN":
            return "NOT IN"
        if word == "IS" and self.skip_ws():
            second = self.word()
            if second == "NULL" or (second == "NOT" and self.skip_ws() and self.word() == "NULL"):
                return "IS NULL" if second == "NULL" else "IS NOT NULL"
        if word in ("NOT", "IS"):
            raise self.fail(f"expected NOT IN or IS [NOT] NULL after {word!r}", start)
        self.pos = start
        hint = "" if spaced else "; keys with special characters must be quoted in backticks"
        problem = f"expected a comparator after {kind} {key!r}, found {self.found()}{hint}"
        raise self.fail(problem, example="quoted" if hint else _example(kind, key))

    def value(self, op: str, kind: EntityKind, key: str) -> Value:
        """Read the right-hand side of ``op`` and check its type against ``kind``."""
        if op in _NULL_OPS:
            return None
        if op in _LIST_OPS:
            return self.string_list(op)
        start, example, char = self.pos, _example(kind, key), self.peek()
        numeric = _allowed_ops(kind, key) == _NUMERIC_OPS
        if char in ("'", '"'):
            text = self.quoted(char)
            if numeric:
                problem = f"{kind} {key!r} takes a number, not the string {text!r}"
                raise self.fail(problem, start, example)
            return text
        number = self.read(_NUMBER)
        if number is not None and not numeric:
            problem = f"{kind} {key!r} takes a quoted string, not the number {number}"
            raise self.fail(problem, start, example)
        if number is not None:
            try:
                exact = kind == "attribute" and not any(c in number for c in ".eE")
                return int(number) if exact else float(number)
            except ValueError:
                raise self.fail(f"the number {number[:20]}... is too long", start) from None
        if char == "`":
            problem = "backticks quote keys, not values; quote values with ' or \""
        elif char == "(":
            problem = "a parenthesised list needs IN or NOT IN"
        else:
            problem = f"expected a {'number' if numeric else 'quoted string'}, found {self.found()}"
            if self.found().upper() == "'NULL'":
                problem += "; test for a missing value with IS NULL"
        raise self.fail(problem, start, example)

    def string_list(self, op: str) -> tuple[str, ...]:
        start, items = self.pos, []
        if self.peek() != "(":
            problem = f"{op} takes a parenthesised list of quoted strings, found {self.found()}"
            raise self.fail(problem, example="list")
        self.pos += 1
        self.skip_ws()
        while self.peek() != ")":
            if self.peek() not in ("'", '"'):
                problem = f"{op} lists hold quoted strings only, found {self.found()}"
                raise self.fail(problem, example="list")
            items.append(self.quoted(self.peek()))
            self.skip_ws()
            if self.peek() == ",":
                self.pos += 1
                self.skip_ws()
            elif self.peek() != ")":
                raise self.fail(f"expected ',' or ')' in the {op} list, found {self.found()}")
        self.pos += 1
        if not items:
            raise self.fail(f"the {op} list is empty", start, "list")
        return tuple(items)

    def comparison(self) -> Comparison:
        kind, key = self.identifier(_FILTER_ALIASES)
        spaced = self.skip_ws()
        start = self.pos
        op = self.operator(kind, key, spaced)
        allowed = _allowed_ops(kind, key)
        if op not in allowed:
            note = "; only attributes.run_id and datasets.* take lists" if op in _LIST_OPS else ""
            problem = f"comparator {op} is not allowed for {kind} {key!r}"
            raise self.fail(
                f"{problem} (allowed: {', '.join(allowed)}){note}", start, _example(kind, key)
            )
        self.skip_ws()
        return Comparison(kind, key, op, self.value(op, kind, key))

    def conjunction(self) -> tuple[Comparison, ...]:
        terms: list[Comparison] = []
        while True:
            self.skip_ws()
            start = self.pos
            if self.word() in ("AND", "OR", "NOT"):
                self.pos = start
                raise self.fail(f"expected a comparison, found {self.found()}", example="metric")
            self.pos = start
            terms.append(self.comparison())
            self.skip_ws()
            if not self.peek():
                return tuple(terms)
            start = self.pos
            word = self.word()
            if word == "OR":
                raise self.fail("OR is not supported; join conditions with AND", start)
            if word != "AND":
                self.pos = start
                raise self.fail(f"expected AND or the end of the filter, found {self.found()}")

    def order_by(self) -> OrderBy:
        self.skip_ws()
        start = self.pos
        kind, key = self.identifier(_ORDER_ALIASES)
        if kind == "dataset":
            raise self.fail("runs cannot be ordered by dataset fields", start, "order")
        spaced = self.skip_ws()
        if not self.peek():
            return OrderBy(kind, key, ascending=True)
        start = self.pos
        direction = self.word()
        if not spaced or direction not in ("ASC", "DESC"):
            self.pos = start
            raise self.fail(f"expected ASC or DESC, found {self.found()}", example="order")
        self.skip_ws()
        if self.peek():
            raise self.fail(f"unexpected {self.found()} after {direction}", example="order")
        return OrderBy(kind, key, ascending=direction == "ASC")


def parse_filter(filter_string: str | None) -> tuple[Comparison, ...]:
    """Parse an MLflow ``search_runs`` filter into the comparisons it ANDs together.

    ``None``, ``""`` and whitespace give ``()`` (match everything). Raises ``InvalidArgument``
    naming the offending token, its position and an example of correct syntax when the filter
    is malformed or uses a comparator or value type MLflow rejects for that entity.
    """
    if filter_string is None or not filter_string.strip():
        return ()
    return _Parser(filter_string, "filter").conjunction()


def parse_order_by(clauses: Sequence[str] | None) -> tuple[OrderBy, ...]:
    """Parse MLflow ``order_by`` clauses such as ``"metrics.acc DESC"`` or ``"start_time"``.

    A bare key is a run attribute; the direction defaults to ascending. A single string is
    taken as one clause. Raises ``InvalidArgument`` for a malformed clause, an unknown
    attribute, a dataset key (MLflow cannot order by those) or a key listed twice.
    """
    if clauses is None:
        return ()
    if isinstance(clauses, str):
        clauses = [clauses]
    result: list[OrderBy] = []
    for clause in clauses:
        if not isinstance(clause, str):
            raise InvalidArgument(f"Invalid order_by: clauses are strings, got {clause!r}.")
        parsed = _Parser(clause, "order_by clause").order_by()
        if any((o.kind, o.key) == (parsed.kind, parsed.key) for o in result):
            raise InvalidArgument(
                f"Invalid order_by {list(clauses)!r}: {parsed.kind} {parsed.key!r} is listed twice."
            )
        result.append(parsed)
    return tuple(result)
